/**
 * The effects machines emit, one factory each so every type string is spelled once.
 * Effects are plain data carrying all the executor needs (STYLE.md rule 4); the runtime
 * applies `store.*` ones inside the event's commit and performs the rest after it.
 *
 * `requestRef` names a pending SIP server transaction kept by the transport layer: it is
 * only meaningful while the process that received the request lives, which is the only time
 * a reply to it can be sent anyway.
 */
import type { ConferenceUser, UserChange } from '../formats/conferenceInfo.js';

/** Answer a pending SIP request with a final status (and optional reason phrase). */
export const sipRespond = (requestRef: string, status: number, reason?: string) =>
  ({ type: 'sip.respond', requestRef, status, reason }) as const;

/** Accept a join: 200 OK with the focus SDP answer and `Contact: <room>;isfocus`. */
export const sipAcceptJoin = (requestRef: string, participantId: string) =>
  ({ type: 'sip.acceptJoin', requestRef, participantId }) as const;

/**
 * End a dialog with BYE; `reason` goes in a Reason header (RFC 3326). `referRef`: the kick
 * REFER whose final NOTIFY reports this BYE's answer (RFC 4579 5.11).
 */
export const sipBye = (dialog: unknown, reason: string, referRef?: string) =>
  ({ type: 'sip.bye', dialog, reason, ...(referRef !== undefined ? { referRef } : {}) }) as { type: 'sip.bye'; dialog: unknown; reason: string; referRef?: string };

/** Send a text notice from the room to some participants' MSRP sessions. */
export const msrpNotice = (room: string, sessions: readonly unknown[], text: string) =>
  ({ type: 'msrp.notice', room, sessions, text }) as const;

/** Close a participant's MSRP session (after a BYE or a drop). */
export const msrpClose = (session: unknown) => ({ type: 'msrp.close', session }) as const;

export type MachineEffect =
  | ReturnType<typeof sipRespond>
  | ReturnType<typeof sipAcceptJoin>
  | ReturnType<typeof sipBye>
  | ReturnType<typeof msrpNotice>
  | ReturnType<typeof msrpClose>;

/** Answer a pending MSRP transaction (SEND, NICKNAME) named by `ref` after the commit. */
export const msrpAnswer = (ref: string, status: number, comment?: string) => ({ type: 'msrp.answer', ref, status, comment }) as const;

/** A chat message or is-composing indication as the room relays and stores it (plain data). */
export interface RoomMessage {
  /** The sender's identity (participant URI). */
  readonly from: string;
  /** The sender's nickname at the time of sending (the CPIM display name). */
  readonly nickname?: string;
  /** CPIM To: the room, or one participant for a private message. */
  readonly to: string;
  /** RFC 3339 time: the sender's CPIM DateTime, or the arrival time when it had none. */
  readonly dateTime: string;
  /** Content type of the wrapped content. */
  readonly contentType: string;
  /** The wrapped content, base64 (binary-safe in JSON snapshots and the inspection stream). */
  readonly body: string;
  /**
   * The sender's other CPIM headers kept as they were: NS declarations and namespaced ones
   * (`imdn.Message-ID`, `imdn.Disposition-Notification`, RFC 5438), Subject; so recipients can
   * match receipts, which come back through the room as private messages to the sender.
   */
  readonly headers?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** Relay a message to these participants' MSRP sessions, wrapped in CPIM by the executor. */
export const msrpRelay = (room: string, sessions: readonly unknown[], message: RoomMessage) =>
  ({ type: 'msrp.relay', room, sessions, message }) as const;

/**
 * Append a message to the room's history (applied inside the event's commit) and forget
 * what falls beyond the newest `limit`. The sequence number is assigned by the store, so the
 * room's snapshot does not change per message (issue 5: no full snapshot write per message).
 */
export const storeAppendHistory = (room: string, limit: number, message: RoomMessage) =>
  ({ type: 'store.appendHistory', room, limit, message }) as const;

/** Remove a room's history (applied inside the commit), when the room is deleted. */
export const storeClearHistory = (room: string) => ({ type: 'store.clearHistory', room }) as const;

/** Send the newest `limit` stored messages to one session, then a welcome notice. */
export const msrpReplayHistory = (room: string, session: unknown, limit: number, welcome: string) =>
  ({ type: 'msrp.replayHistory', room, session, limit, welcome }) as const;

/** A roster document to send: the whole roster, or the users that changed (RFC 4575 4.4). */
export type RosterDocument =
  | { readonly kind: 'full'; readonly users: readonly ConferenceUser[]; readonly userCount: number }
  | { readonly kind: 'partial'; readonly changes: readonly UserChange[]; readonly userCount: number };

/**
 * Send one NOTIFY of the conference package on `subscription` (its state before this NOTIFY:
 * the executor's `buildNotify` advances CSeq and version the same way the room does).
 * No document: a NOTIFY without body (the final one of an ended subscription).
 */
export const sipNotifyRoster = (room: string, subscription: unknown, document: RosterDocument | undefined) =>
  ({ type: 'sip.notifyRoster', room, subscription, document }) as const;

/**
 * RFC 4579 5.5: INVITE `target` to the room on behalf of `referredBy` (Referred-By, Contact
 * ;isfocus), reporting progress on the REFER's implicit subscription (`requestRef`).
 */
export const sipInviteUser = (room: string, target: string, referredBy: string, requestRef: string) =>
  ({ type: 'sip.inviteUser', room, target, referredBy, requestRef }) as const;

/**
 * RFC 5366: ask `target` (listed in the creator's INVITE) to join the room, by a REFER whose
 * Refer-To is the room and Referred-By the creator.
 */
export const sipReferToRoom = (room: string, target: string, referredBy: string) => ({ type: 'sip.referToRoom', room, target, referredBy }) as const;

/** Every effect type of the room, for the application's `effectTypes`. */
export const ROOM_EFFECT_TYPES = [
  'sip.respond',
  'sip.acceptJoin',
  'sip.bye',
  'msrp.notice',
  'msrp.close',
  'msrp.answer',
  'msrp.relay',
  'store.appendHistory',
  'store.clearHistory',
  'msrp.replayHistory',
  'sip.notifyRoster',
  'sip.inviteUser',
  'sip.referToRoom',
] as const;

export type RoomEffect =
  | MachineEffect
  | ReturnType<typeof msrpAnswer>
  | ReturnType<typeof msrpRelay>
  | ReturnType<typeof storeAppendHistory>
  | ReturnType<typeof storeClearHistory>
  | ReturnType<typeof msrpReplayHistory>
  | ReturnType<typeof sipNotifyRoster>
  | ReturnType<typeof sipInviteUser>
  | ReturnType<typeof sipReferToRoom>;
