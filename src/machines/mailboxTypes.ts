/**
 * The mailbox's configuration, context and events (the MSILO model). Kept apart from the
 * machine so the pure steps (`mailboxSteps.ts`) and the application share them.
 */
import type { IncomingMessage } from './mailboxEffects.js';

/** msilo's parameters, plus pacing. Defaults in `defaultMailboxConfig`. */
export interface MailboxConfig {
  /** Most messages per AoR; 0 = unlimited (msilo `max_messages`). */
  readonly maxMessages: number;
  /** Retry period for failed deliveries while online (msilo `check_time`, 30 s). */
  readonly checkTimeMs: number;
  /** The expiry sweep runs every `cleanPeriod` x `checkTimeMs` (msilo `clean_period`, 5). */
  readonly cleanPeriod: number;
  /** Lifetime of a stored message (msilo `expire_time`, 259200 s = 72 h). */
  readonly expireTimeMs: number;
  /**
   * Deliveries in flight at once per mailbox, so 10,000 stored do not flood a client. 50: the
   * window, not the client, bounds delivery over a round trip of a few ms (bench/msilo.ts).
   */
  readonly maxInFlight: number;
  /** Seqs read per `mailbox.loadBatch`. */
  readonly batchSize: number;
  /**
   * A delivery or batch read with no answer for this long counts as failed: only a restart
   * loses an answer (the SIP layer always resolves, 408 after 64*T1 = 32 s), so this exceeds it.
   */
  readonly stallMs: number;
  /** msilo `from_address`: tell the sender the user is offline (off by default). */
  readonly notifySender: boolean;
  /** Most message-waiting subscribers per mailbox. */
  readonly maxSubscribers: number;
  /**
   * Report every change (`mailbox.changed`) even without subscribers: message-waiting is
   * PUBLISHed to a presence server (src/app/offline). Default false.
   */
  readonly reportChanges: boolean;
}

export const defaultMailboxConfig: MailboxConfig = Object.freeze({
  maxMessages: 0,
  checkTimeMs: 30_000,
  cleanPeriod: 5,
  expireTimeMs: 259_200_000,
  maxInFlight: 50,
  batchSize: 50,
  stallMs: 40_000,
  notifySender: false,
  maxSubscribers: 10,
  reportChanges: false,
});

/** A message being (or about to be) delivered. */
export interface Pending {
  readonly seq: number;
  readonly reminder: boolean;
}

/** One sweep through the stored messages while the user is online. */
export interface Pass {
  /** Highest seq read so far (`loadBatch` continues after it). */
  readonly cursor: number;
  readonly loading: boolean;
  /** The last read returned the end of the mailbox. */
  readonly exhausted: boolean;
  /** Loaded, not yet sent (fewer than `maxInFlight` + `batchSize`). */
  readonly queue: readonly Pending[];
  /** Deliveries that failed in this pass: a retry is due after `checkTimeMs`. */
  readonly failed: number;
  /** Earliest send time of a reminder seen and skipped (not yet due). */
  readonly nextReminder: number | null;
  /** Something new is deliverable (reminder due, new contact): run another pass at the end. */
  readonly rerun: boolean;
}

/**
 * Small metadata only: the snapshot is JSON rewritten on every event. Bodies are in the
 * `messages` database. Deadlines are absolute times (the runtime also keeps them as timers).
 */
export interface MailboxContext {
  readonly aor: string;
  /** Messages stored (reminders included). */
  readonly count: number;
  readonly nextSeq: number;
  readonly online: boolean;
  readonly inflight: readonly Pending[];
  readonly pass: Pass | null;
  readonly sweeping: boolean;
  readonly checkAt: number | null;
  readonly sweepAt: number | null;
  readonly reminderAt: number | null;
  readonly stallAt: number | null;
  /** Earliest expiry among stored messages (a lower bound). */
  readonly nextExpiryAt: number | null;
  /** Duplicate-suppression keys of the last stores (covers the window before their commit). */
  readonly recentKeys: readonly string[];
  /** Seqs deleted recently: a scan or admin read that raced their commit must not count them twice. */
  readonly recentDeletes: readonly number[];
  /** Message-waiting subscription ids (RFC 3842); a mailbox with subscribers does not stop. */
  readonly subscribers: readonly string[];
}

export interface MailboxInput {
  readonly aor: string;
  readonly online?: boolean;
}

/** What `mailbox.loadBatch` returns per message. */
export interface BatchEntry {
  readonly seq: number;
  /** Stored from an offline chat session: delivered by session, not by this pass. */
  readonly session?: true;
  /** Fetched already (old): never delivered again. */
  readonly read?: true;
  readonly sendAt?: number;
  readonly expiresAt: number;
}

/** One MESSAGE of a `STORE_MESSAGES` batch. */
export interface StoreItem {
  readonly requestRef?: string;
  readonly online: boolean;
  readonly message: IncomingMessage;
  readonly dedupKeys: readonly string[];
}

/** One answer of a `DELIVERY_RESULTS` batch (`status` 0: the message was gone). */
export interface DeliveryOutcome {
  readonly seq: number;
  readonly status: number;
}

export type MailboxEvent =
  | { type: 'STORE_MESSAGE'; at: number; requestRef?: string; online: boolean; message: IncomingMessage; dedupKeys: readonly string[] }
  /**
   * The MESSAGEs for one mailbox that arrived in one turn of the event loop, stored in order
   * as if each were a STORE_MESSAGE (one transition and one snapshot write for all of them).
   * `online` (for the actor's input): one of them was stored after a failed delivery.
   */
  | { type: 'STORE_MESSAGES'; at: number; online: boolean; items: readonly StoreItem[] }
  | { type: 'USER_ONLINE'; at: number }
  | { type: 'USER_OFFLINE'; at: number }
  | { type: 'BATCH_LOADED'; at: number; after: number; entries: readonly BatchEntry[]; exhausted: boolean }
  /** `status` 0: the message was gone when the executor looked (deleted meanwhile). */
  | { type: 'DELIVERY_RESULT'; at: number; seq: number; status: number }
  /** The delivery answers that arrived in one turn, taken in order as DELIVERY_RESULTs. */
  | { type: 'DELIVERY_RESULTS'; at: number; results: readonly DeliveryOutcome[] }
  | { type: 'SWEPT'; at: number; expired: readonly number[]; more: boolean; nextExpiresAt: number | null; nextSendAt: number | null }
  | { type: 'CHECK_DUE'; at: number }
  | { type: 'SWEEP_DUE'; at: number }
  | { type: 'REMINDER_DUE'; at: number }
  | { type: 'DELIVERY_STALLED'; at: number }
  /** `delivered`: taken by another delivery path (an MSRP session, a fetch); default `admin`. */
  | { type: 'DELETE_MESSAGES'; at: number; seqs: readonly number[]; reason?: 'admin' | 'delivered' }
  /** The user fetched these (text message-waiting): they become old. */
  | { type: 'MARK_READ'; at: number; seqs: readonly number[] }
  | { type: 'SUBSCRIBED'; at: number; id: string }
  | { type: 'UNSUBSCRIBED'; at: number; id: string };

/** Event factories: each type string spelled once. */
export const mailboxEvents = {
  store: (at: number, message: IncomingMessage, dedupKeys: readonly string[], online: boolean, requestRef?: string) =>
    ({ type: 'STORE_MESSAGE', at, message, dedupKeys, online, ...(requestRef !== undefined ? { requestRef } : {}) }) as const,
  storeMany: (at: number, items: readonly StoreItem[]) => ({ type: 'STORE_MESSAGES', at, online: items.some((i) => i.online), items }) as const,
  online: (at: number) => ({ type: 'USER_ONLINE', at }) as const,
  offline: (at: number) => ({ type: 'USER_OFFLINE', at }) as const,
  batchLoaded: (at: number, after: number, entries: readonly BatchEntry[], exhausted: boolean) =>
    ({ type: 'BATCH_LOADED', at, after, entries, exhausted }) as const,
  deliveryResult: (at: number, seq: number, status: number) => ({ type: 'DELIVERY_RESULT', at, seq, status }) as const,
  deliveryResults: (at: number, results: readonly DeliveryOutcome[]) => ({ type: 'DELIVERY_RESULTS', at, results }) as const,
  swept: (at: number, expired: readonly number[], more: boolean, nextExpiresAt: number | null, nextSendAt: number | null) =>
    ({ type: 'SWEPT', at, expired, more, nextExpiresAt, nextSendAt }) as const,
  checkDue: (at: number) => ({ type: 'CHECK_DUE', at }) as const,
  sweepDue: (at: number) => ({ type: 'SWEEP_DUE', at }) as const,
  reminderDue: (at: number) => ({ type: 'REMINDER_DUE', at }) as const,
  deliveryStalled: (at: number) => ({ type: 'DELIVERY_STALLED', at }) as const,
  deleteMessages: (at: number, seqs: readonly number[], reason?: 'admin' | 'delivered') =>
    ({ type: 'DELETE_MESSAGES', at, seqs, ...(reason !== undefined ? { reason } : {}) }) as const,
  markRead: (at: number, seqs: readonly number[]) => ({ type: 'MARK_READ', at, seqs }) as const,
  subscribed: (at: number, id: string) => ({ type: 'SUBSCRIBED', at, id }) as const,
  unsubscribed: (at: number, id: string) => ({ type: 'UNSUBSCRIBED', at, id }) as const,
};

/** Timer ids (one of each per mailbox). */
export const MAILBOX_TIMERS = { check: 'check', sweep: 'sweep', reminder: 'reminder', stall: 'stall' } as const;

/** Quota refusal (RFC 3428 leaves it open): 486 is a final "not able to take more" a client shows. */
export const MAILBOX_FULL = { status: 486, reason: 'Mailbox Full' } as const;
