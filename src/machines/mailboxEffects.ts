/**
 * The effects a mailbox (the MSILO model, one actor per AoR) emits, one factory each so each
 * type string is spelled once. `store.*` effects are turned into LMDB writes committed with
 * the mailbox snapshot (`src/actors/mailboxStore.ts`); `mailbox.*` effects are performed after
 * that commit by the mailbox application (`src/app/mailbox/executor.ts`), which dispatches
 * the outcome back as an event (`BATCH_LOADED`, `DELIVERY_RESULT`, `SWEPT`).
 *
 * Message bodies travel in `store.putMessage` only: the snapshot keeps counts and sequence
 * numbers, never bodies (it is rewritten on every event).
 */

/** What the SIP layer hands to the mailbox for storage (before it gets a sequence number). */
export interface IncomingMessage {
  /** The AoR the message waits for (Request-URI if it is an AoR, else the To URI). */
  readonly ruri: string;
  /** From header value, without its tag (the delivery is a new request from this sender). */
  readonly from: string;
  /** To header value, without its tag. */
  readonly to: string;
  readonly contentType: string;
  readonly body: Buffer;
  readonly callId: string;
  readonly cseq: number;
  /** CPIM/IMDN `imdn.Message-ID` when the body is CPIM and carries one. */
  readonly messageId?: string;
  /** Reminder: deliver at this time (ms since epoch) and not before. */
  readonly sendAt?: number;
  /**
   * Written in an offline MSRP chat session by `caller` (its identity URI). Such a message is
   * delivered by a new MSRP session from that caller (src/app/offline), never by MESSAGE: the
   * mailbox's delivery pass skips it, so each message has one delivery path.
   */
  readonly session?: { readonly caller: string };
}

/** One stored message: a record of the `messages` database, key `[aor, seq]`. */
export interface StoredMessage extends IncomingMessage {
  readonly seq: number;
  /** Incoming time (ms since epoch): the Date header or `add_date` prefix on delivery. */
  readonly receivedAt: number;
  /** After this the expiry sweep removes it (ms since epoch). */
  readonly expiresAt: number;
  /** Duplicate-suppression keys (hashes of Call-ID/CSeq and of the IMDN Message-ID). */
  readonly dedupKeys: readonly string[];
  /**
   * Fetched by the user (text message-waiting, RFC 3842 "old"): kept until it expires, counted
   * as old, and never delivered again by any path.
   */
  readonly read?: true;
}

/** msilo's counters; each effect carries increments. */
export interface MailboxStatsDelta {
  readonly stored_messages?: number;
  readonly dumped_messages?: number;
  readonly failed_messages?: number;
  readonly dumped_reminders?: number;
  readonly failed_reminders?: number;
}

/** Why messages leave a mailbox. */
export type DeleteReason = 'delivered' | 'expired' | 'admin';

/** Store one message (and its duplicate-suppression keys) with the snapshot. */
export const storePutMessage = (aor: string, message: StoredMessage) => ({ type: 'store.putMessage', aor, message }) as const;

/** Remove messages (and their duplicate-suppression keys) with the snapshot. */
export const storeDeleteMessages = (aor: string, seqs: readonly number[], reason: DeleteReason) =>
  ({ type: 'store.deleteMessages', aor, seqs, reason }) as const;

/** Mark messages read (fetched): rewritten with `read: true` in the same commit. */
export const storeMarkRead = (aor: string, seqs: readonly number[]) => ({ type: 'store.markRead', aor, seqs }) as const;

/** Something stored, deleted or read changed while message-waiting subscribers listen: recount and NOTIFY. */
export const mailboxChanged = (aor: string) => ({ type: 'mailbox.changed', aor }) as const;

/** Add to the global msilo counters, in the same commit as the change they count. */
export const storeAddStats = (delta: MailboxStatsDelta) => ({ type: 'store.addStats', delta }) as const;

/** Answer the pending MESSAGE `requestRef` (202 after the commit, 486 when full...). */
export const mailboxRespond = (requestRef: string, status: number, reason?: string) =>
  ({ type: 'mailbox.respond', requestRef, status, ...(reason !== undefined ? { reason } : {}) }) as const;

/** Read the seqs (with due and expiry times) after `after`, up to `limit`; answer `BATCH_LOADED`. */
export const mailboxLoadBatch = (aor: string, after: number, limit: number) => ({ type: 'mailbox.loadBatch', aor, after, limit }) as const;

/** Send message `seq` to the AoR's current contacts; answer `DELIVERY_RESULT`. */
export const mailboxDeliver = (aor: string, seq: number, reminder: boolean) => ({ type: 'mailbox.deliver', aor, seq, reminder }) as const;

/** Scan for expired messages (at most `limit`) and the next due/expiry times; answer `SWEPT`. */
export const mailboxSweep = (aor: string, limit: number) => ({ type: 'mailbox.sweep', aor, limit }) as const;

/** Tell the sender that the recipient is offline and the message was stored (msilo offline_message). */
export const mailboxNotifySender = (aor: string, sender: string) => ({ type: 'mailbox.notifySender', aor, sender }) as const;

export type MailboxEffect =
  | ReturnType<typeof storePutMessage>
  | ReturnType<typeof storeDeleteMessages>
  | ReturnType<typeof storeAddStats>
  | ReturnType<typeof storeMarkRead>
  | ReturnType<typeof mailboxChanged>
  | ReturnType<typeof mailboxRespond>
  | ReturnType<typeof mailboxLoadBatch>
  | ReturnType<typeof mailboxDeliver>
  | ReturnType<typeof mailboxSweep>
  | ReturnType<typeof mailboxNotifySender>;

/** Every effect type of the mailbox, for the application's effect routing. */
export const MAILBOX_EFFECT_TYPES = [
  'store.putMessage',
  'store.deleteMessages',
  'store.addStats',
  'store.markRead',
  'mailbox.changed',
  'mailbox.respond',
  'mailbox.loadBatch',
  'mailbox.deliver',
  'mailbox.sweep',
  'mailbox.notifySender',
] as const;
