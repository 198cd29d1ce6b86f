/**
 * What a room does with a participant's MSRP SEND and NICKNAME: pure decisions over the
 * room's context, returned as effects (STYLE.md: "may X?" decided before anything changes, a
 * refusal is an explicit effect with its status).
 *
 * Relay rules (issue 5 item 4, draft-ietf-simple-chat, RFC 7701):
 * - only a joined participant's messages are relayed (403 otherwise);
 * - the CPIM From must be the participant's own identity (403, not relayed);
 * - CPIM To = the room (or absent): relayed to every other joined participant and stored in
 *   the history; To = one participant: a private message, sent only to that participant's
 *   sessions and the sender's other sessions, never stored;
 * - is-composing indications follow the same rules and are never stored.
 * The sender's 200 is emitted before the relay: the executor runs effects in order after the
 * commit, so the answer means "stored" and comes before anyone else sees the message.
 */
import { IS_COMPOSING_CONTENT_TYPE } from '../formats/isComposing.js';
import { msrpAnswer, msrpRelay, storeAppendHistory, type RoomEffect, type RoomMessage } from './effects.js';
import { identityOf } from './policy.js';

/** The participant fields these decisions read (a subset of conference.ts' Participant). */
export interface RelayParticipant {
  readonly id: string;
  readonly uri: string;
  readonly status: 'expected' | 'joined';
  readonly session: unknown;
  readonly nickname?: string;
  readonly displayName?: string;
}

export interface RelayContext {
  readonly room: string;
  readonly historySize: number;
  readonly participants: Readonly<Record<string, RelayParticipant>>;
}

/** A SEND from a participant, CPIM already parsed by the application. */
export interface MessageReceived {
  readonly type: 'MESSAGE_RECEIVED';
  readonly participantId: string;
  /** Names the pending MSRP transaction to answer. */
  readonly ref: string;
  /** CPIM From URI. */
  readonly from: string;
  /** CPIM To URIs (usually one). */
  readonly to: readonly string[];
  readonly dateTime?: string;
  readonly contentType: string;
  /** base64 of the wrapped content. */
  readonly body: string;
  /** Arrival time (ms), the DateTime when the sender set none. */
  readonly at: number;
  /** CPIM headers relayed as they are (NS, namespaced, Subject). */
  readonly headers?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /**
   * Sessions that already got it chunk by chunk while it arrived (a large message, streamed by
   * the application with these same rules): the room stores and answers it as usual and
   * relays it only to the recipients not in this list (e.g. someone who joined meanwhile).
   */
  readonly relayedTo?: readonly string[];
}

export interface NicknameRequested {
  readonly type: 'NICKNAME_REQUESTED';
  readonly participantId: string;
  readonly ref: string;
  readonly nickname: string;
}

/** RFC 7701 section 5: a nickname is a non-empty UTF-8 string; Parley bounds it (64 chars, no controls). */
export const MAX_NICKNAME_LENGTH = 64;

/** The name others see: nickname, else the SIP display name, else the identity. */
export function labelOf(p: RelayParticipant): string {
  return p.nickname ?? p.displayName ?? identityOf(p.uri);
}

/** Joined participants except `exceptId`. */
export function joinedExcept(ctx: RelayContext, exceptId: string | undefined): RelayParticipant[] {
  return Object.values(ctx.participants).filter((p) => p.id !== exceptId && p.status === 'joined');
}

export function decideRelay(ctx: RelayContext, e: MessageReceived): RoomEffect[] {
  const p = ctx.participants[e.participantId];
  if (p === undefined) return [msrpAnswer(e.ref, 481, 'not in the room')];
  if (p.status !== 'joined') return [msrpAnswer(e.ref, 403, 'not joined yet (no ACK)')];
  const sender = identityOf(p.uri);
  if (identityOf(e.from) !== sender) return [msrpAnswer(e.ref, 403, 'CPIM From is not your identity')];
  const room = identityOf(ctx.room);
  const targets = e.to.map(identityOf).filter((t) => t !== room);
  const composing = e.contentType.split(';')[0].trim().toLowerCase() === IS_COMPOSING_CONTENT_TYPE;
  const message: RoomMessage = {
    from: p.uri,
    ...(p.nickname !== undefined ? { nickname: p.nickname } : {}),
    to: ctx.room,
    dateTime: e.dateTime ?? new Date(e.at).toISOString(),
    contentType: e.contentType,
    body: e.body,
    ...(e.headers !== undefined && e.headers.length > 0 ? { headers: e.headers } : {}),
  };
  if (targets.length === 0) {
    const others = notRelayed(e, joinedExcept(ctx, p.id).map((q) => q.session));
    const out: RoomEffect[] = [];
    if (!composing && ctx.historySize > 0) out.push(storeAppendHistory(ctx.room, ctx.historySize, message));
    out.push(msrpAnswer(e.ref, 200));
    if (others.length > 0 || e.relayedTo === undefined) out.push(msrpRelay(ctx.room, others, message));
    return out;
  }
  // RFC 7701 / draft-ietf-simple-chat section 6.5: one recipient only.
  if (targets.length > 1) return [msrpAnswer(e.ref, 403, 'a private message has one recipient')];
  const target = targets[0];
  const recipients = joinedExcept(ctx, p.id).filter((q) => identityOf(q.uri) === target || identityOf(q.uri) === sender);
  if (!recipients.some((q) => identityOf(q.uri) === target)) return [msrpAnswer(e.ref, 403, `${target} is not in the room`)];
  const sessions = notRelayed(e, recipients.map((q) => q.session));
  if (sessions.length === 0 && e.relayedTo !== undefined) return [msrpAnswer(e.ref, 200)];
  return [msrpAnswer(e.ref, 200), msrpRelay(ctx.room, sessions, { ...message, to: target })];
}

function notRelayed(e: MessageReceived, sessions: unknown[]): unknown[] {
  if (e.relayedTo === undefined) return sessions;
  // A Set: a message relayed on arrival lists every other participant.
  const done = new Set<unknown>(e.relayedTo);
  return sessions.filter((s) => !done.has(s));
}

/** Whether the nickname is well formed: 1-64 characters, no control characters. */
export function validNickname(n: string): boolean {
  // eslint-disable-next-line no-control-regex
  return n.length > 0 && [...n].length <= MAX_NICKNAME_LENGTH && !/[\u0000-\u001f\u007f]/.test(n) && n.trim() === n;
}

/**
 * RFC 7701 section 7: 200 and the nickname is the participant's; 425 when another user of the
 * room holds it (compared case-insensitively, so "Bob" and "bob" cannot both appear); the
 * same user's other sessions may share it.
 */
export function decideNickname(ctx: RelayContext, e: NicknameRequested): { effects: RoomEffect[]; nickname?: string } {
  const p = ctx.participants[e.participantId];
  if (p === undefined) return { effects: [msrpAnswer(e.ref, 481, 'not in the room')] };
  if (!validNickname(e.nickname)) return { effects: [msrpAnswer(e.ref, 400, 'malformed nickname')] };
  const me = identityOf(p.uri);
  const wanted = e.nickname.toLowerCase();
  const holder = Object.values(ctx.participants).find((q) => q.nickname?.toLowerCase() === wanted && identityOf(q.uri) !== me);
  if (holder !== undefined) return { effects: [msrpAnswer(e.ref, 425, 'nickname in use')] };
  return { effects: [msrpAnswer(e.ref, 200)], nickname: e.nickname };
}
