/**
 * Events and effects of an offline chat session (one actor per MSRP chat INVITE answered on
 * behalf of an offline user), one factory each so every type string is spelled once.
 *
 * `offline.*` effects are performed after the session's commit by the offline application
 * (`src/app/offline/executor.ts`), which owns the live MSRP session and the pending SIP and
 * MSRP transactions named by `ref`s (only meaningful while the process that received them lives,
 * which is the only time they can be answered anyway).
 */
import type { IncomingMessage } from './mailboxEffects.js';

/** What the application hands the machine when it creates a session (the actor's input). */
export interface OfflineSessionInput {
  /** The actor key (`<Call-ID>;<local tag>`). */
  readonly key: string;
  /** The called user's AoR: the mailbox that receives what is written. */
  readonly callee: string;
  /** The caller's identity URI (P-Asserted-Identity from a trusted proxy, else From). */
  readonly caller: string;
  /** SIP dialog state (plain data) for the BYE, also after a restart. */
  readonly dialog: unknown;
  /** Greeting sent once the MSRP connection is up. */
  readonly greeting: string;
  /** Grace window (ms) from the answer to our BYE. */
  readonly graceMs: number;
  /** Most messages taken in one session (every count is limited). */
  readonly maxMessages: number;
}

export type OfflineSessionEvent =
  /** The INVITE was accepted for answering (creates the actor from `session`): answer 200, open the window. */
  | { type: 'OFFERED'; at: number; requestRef: string; session: OfflineSessionInput }
  | { type: 'ACK_RECEIVED'; at: number }
  /** The caller's MSRP connection is bound to the session. */
  | { type: 'MSRP_CONNECTED'; at: number }
  /** A complete MSRP SEND; `ref` names its pending MSRP transaction. */
  | { type: 'MESSAGE_RECEIVED'; at: number; ref: string; message: IncomingMessage; dedupKeys: readonly string[] }
  | { type: 'BYE_RECEIVED'; at: number; requestRef: string }
  /** The INVITE was cancelled before our 200 went out (the transport answered 487): no dialog, no BYE. */
  | { type: 'CANCELLED'; at: number }
  /** The MSRP connection was lost (or refused) before the window ended. */
  | { type: 'MSRP_CLOSED'; at: number; reason: string }
  /** Durable timer: the grace window is over. */
  | { type: 'GRACE_ENDED'; at: number };

export const offlineSessionEvents = {
  offered: (at: number, requestRef: string, session: OfflineSessionInput) => ({ type: 'OFFERED', at, requestRef, session }) as const,
  ackReceived: (at: number) => ({ type: 'ACK_RECEIVED', at }) as const,
  msrpConnected: (at: number) => ({ type: 'MSRP_CONNECTED', at }) as const,
  messageReceived: (at: number, ref: string, message: IncomingMessage, dedupKeys: readonly string[]) =>
    ({ type: 'MESSAGE_RECEIVED', at, ref, message, dedupKeys }) as const,
  byeReceived: (at: number, requestRef: string) => ({ type: 'BYE_RECEIVED', at, requestRef }) as const,
  cancelled: (at: number) => ({ type: 'CANCELLED', at }) as const,
  msrpClosed: (at: number, reason: string) => ({ type: 'MSRP_CLOSED', at, reason }) as const,
  graceEnded: (at: number) => ({ type: 'GRACE_ENDED', at }) as const,
};

/** Timer id of the grace window (one per session). */
export const GRACE_TIMER = 'grace';

/** Answer the INVITE `requestRef` with 200 and the SDP answer prepared for session `key`. */
export const offlineAnswer = (key: string, requestRef: string) => ({ type: 'offline.answer', key, requestRef }) as const;

/** Send the greeting on the session's MSRP connection. */
export const offlineGreet = (key: string, text: string) => ({ type: 'offline.greet', key, text }) as const;

/**
 * Store one message in the callee's mailbox; the MSRP transaction `ref` is answered 200 only
 * once the mailbox committed it (403 when the mailbox refused it).
 */
export const offlineStore = (key: string, ref: string, aor: string, message: IncomingMessage, dedupKeys: readonly string[]) =>
  ({ type: 'offline.store', key, ref, aor, message, dedupKeys }) as const;

/** Answer the MSRP transaction `ref` with a refusal. */
export const offlineRefuseMessage = (ref: string, status: number, comment: string) => ({ type: 'offline.refuseMessage', ref, status, comment }) as const;

/** Answer a pending SIP request (the caller's BYE). */
export const offlineRespond = (requestRef: string, status: number) => ({ type: 'offline.respond', requestRef, status }) as const;

/** End the dialog with BYE (RFC 3326 Reason text). */
export const offlineBye = (key: string, dialog: unknown, reason: string) => ({ type: 'offline.bye', key, dialog, reason }) as const;

/** Close the live MSRP session (a no-op after a restart: it is gone already). */
export const offlineCloseMsrp = (key: string) => ({ type: 'offline.closeMsrp', key }) as const;

/**
 * The session ended: what was written may be delivered now if the user is reachable (an
 * INVITE the proxy marked for offline answering while the user was registered but did not answer).
 */
export const offlineEnded = (key: string, callee: string) => ({ type: 'offline.ended', key, callee }) as const;

export type OfflineSessionEffect =
  | ReturnType<typeof offlineAnswer>
  | ReturnType<typeof offlineGreet>
  | ReturnType<typeof offlineStore>
  | ReturnType<typeof offlineRefuseMessage>
  | ReturnType<typeof offlineRespond>
  | ReturnType<typeof offlineBye>
  | ReturnType<typeof offlineCloseMsrp>
  | ReturnType<typeof offlineEnded>;

export const OFFLINE_SESSION_EFFECT_TYPES = [
  'offline.answer',
  'offline.greet',
  'offline.store',
  'offline.refuseMessage',
  'offline.respond',
  'offline.bye',
  'offline.closeMsrp',
  'offline.ended',
] as const;
