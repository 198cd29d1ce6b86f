/**
 * One chat room (RFC 4579 focus). Pure: it decides and emits effects; the supervisor commits
 * its snapshot and the transports perform the effects.
 *
 * Participants are data in context, not child actors (spawning is O(N^2) and restores badly,
 * PACKAGES.md). Each one goes `expected` (200 OK sent) -> `joined` (ACK) and is removed
 * ("dropped") on BYE, CANCEL, loss of its MSRP connection, a kick, or when its ACK does not
 * come within `ackTimeoutMs` (5 s, RFC 4579 leaves it to the focus; a delayed event keyed by
 * the participant, made durable by the runtime).
 *
 * The room: `idle` (just created) -> `open` -> `closed` (final). An ad-hoc room closes when
 * its last participant leaves; a static room (provisioned by an administrator) closes only
 * on `ROOM_DELETED`.
 *
 * Also here, as pure decisions in their own files: relaying SENDs and taking nicknames
 * (roomRelay.ts: the message's history row, its 200 and its relay are effects, the context does
 * not change per message), the roster subscriptions (roomRoster.ts: a partial NOTIFY per change),
 * invitations by REFER (RFC 4579 5.5), kicks (5.11) and the creator's dial-out list (RFC 5366).
 */
import { assign, enqueueActions, setup } from 'xstate';
import { msrpClose, msrpNotice, msrpReplayHistory, sipAcceptJoin, sipBye, sipInviteUser, sipNotifyRoster, sipReferToRoom, sipRespond, storeClearHistory, type RoomEffect } from './effects.js';
import { decideNickname, decideRelay, labelOf, type MessageReceived, type NicknameRequested } from './roomRelay.js';
import { afterNotify, endSubscriptions, fullDocument, notifyChanges, subscriptionTimerId, type RosterSubscription } from './roomRoster.js';
import { check, identityOf, mayKick, openPolicy, type RoomPolicy } from './policy.js';

/** Who is joining, as the SIP and MSRP layers describe them (plain data). */
export interface ParticipantInfo {
  /** Unique within the room: the SIP dialog id of the join. */
  readonly id: string;
  /** The participant's identity (P-Asserted-Identity or From URI). */
  readonly uri: string;
  readonly displayName?: string;
  /** SIP dialog state (for BYE after a restart). */
  readonly dialog: unknown;
  /** The MSRP session the participant's messages use. */
  readonly session: unknown;
  /**
   * RFC 5366 dial-out list of the INVITE that created the room: these users are REFERred to
   * the room once the creator has joined (then the list is dropped).
   */
  readonly dialOut?: readonly string[];
}

export interface Participant extends ParticipantInfo {
  readonly status: 'expected' | 'joined';
  readonly since: number;
  /** RFC 7701 nickname, unique in the room (case-insensitively) across users. */
  readonly nickname?: string;
}

/** Why a participant left: their BYE or CANCEL, their MSRP connection, or too slow to keep up. */
export type LeaveReason = 'bye' | 'cancel' | 'connection-lost' | 'slow';

export interface ConferenceContext {
  readonly room: string;
  readonly isStatic: boolean;
  readonly policy: RoomPolicy;
  readonly ackTimeoutMs: number;
  /**
   * How many messages the room keeps and replays to newcomers (issue 5 item 9, default 50);
   * an administrator sets it per static room. Absent in snapshots older than the field.
   */
  readonly historySize: number;
  readonly participants: Readonly<Record<string, Participant>>;
  /**
   * Roster subscriptions (RFC 4575) by our dialog tag, as subscription.ts' plain data. Absent
   * in snapshots older than the field.
   */
  readonly subscribers?: Readonly<Record<string, RosterSubscription>>;
}

export interface ConferenceInput {
  readonly room: string;
  readonly isStatic?: boolean;
  readonly policy?: RoomPolicy;
  readonly ackTimeoutMs?: number;
  readonly historySize?: number;
}

export type ConferenceEvent =
  | { type: 'JOIN'; participant: ParticipantInfo; requestRef: string; at: number }
  | { type: 'ACK_RECEIVED'; participantId: string }
  | { type: 'ACK_TIMEOUT'; participantId: string }
  | { type: 'LEFT'; participantId: string; reason: LeaveReason }
  | MessageReceived
  | NicknameRequested
  /** A SUBSCRIBE accepted by subscription.ts (new, refresh, or Expires 0 = terminated). */
  | { type: 'SUBSCRIBED'; subscription: RosterSubscription; requestRef: string; at: number }
  | { type: 'SUBSCRIPTION_TIMEOUT'; subscriptionId: string }
  /** A NOTIFY failed in a way that ends the subscription (RFC 6665 4.2.2: 481, 408...). */
  | { type: 'SUBSCRIPTION_FAILED'; subscriptionId: string }
  | { type: 'KICK'; by: string; target: string; requestRef: string }
  /** REFER with a plain Refer-To (RFC 4579 5.5): `by` asks the room to invite `target`. */
  | { type: 'INVITE_REQUESTED'; by: string; target: string; requestRef: string }
  /** A user the room invited answered 200 and got the ACK: joined at once. */
  | { type: 'INVITEE_JOINED'; participant: ParticipantInfo; at: number }
  | { type: 'ROOM_PROVISIONED'; policy: RoomPolicy; historySize?: number }
  | { type: 'ROOM_DELETED' };

/** Event factories: each type string spelled once (STYLE.md). */
export const conferenceEvents = {
  join: (participant: ParticipantInfo, requestRef: string, at: number) => ({ type: 'JOIN', participant, requestRef, at }) as const,
  ackReceived: (participantId: string) => ({ type: 'ACK_RECEIVED', participantId }) as const,
  left: (participantId: string, reason: LeaveReason) => ({ type: 'LEFT', participantId, reason }) as const,
  messageReceived: (m: Omit<MessageReceived, 'type'>): MessageReceived => ({ type: 'MESSAGE_RECEIVED', ...m }),
  nicknameRequested: (participantId: string, ref: string, nickname: string): NicknameRequested => ({ type: 'NICKNAME_REQUESTED', participantId, ref, nickname }),
  subscribed: (subscription: RosterSubscription, requestRef: string, at: number) => ({ type: 'SUBSCRIBED', subscription, requestRef, at }) as const,
  subscriptionFailed: (subscriptionId: string) => ({ type: 'SUBSCRIPTION_FAILED', subscriptionId }) as const,
  kick: (by: string, target: string, requestRef: string) => ({ type: 'KICK', by, target, requestRef }) as const,
  inviteRequested: (by: string, target: string, requestRef: string) => ({ type: 'INVITE_REQUESTED', by, target, requestRef }) as const,
  inviteeJoined: (participant: ParticipantInfo, at: number) => ({ type: 'INVITEE_JOINED', participant, at }) as const,
  /** Makes the room static with this policy; again on a static room, replaces its settings (admin API). */
  provisioned: (policy: RoomPolicy, historySize?: number) =>
    ({ type: 'ROOM_PROVISIONED', policy, ...(historySize !== undefined ? { historySize } : {}) }) as const,
  deleted: () => ({ type: 'ROOM_DELETED' }) as const,
};

/** Messages a room keeps for newcomers unless configured otherwise (issue 5 item 9). */
export const DEFAULT_HISTORY_SIZE = 50;

const ackTimerId = (participantId: string) => `ack:${participantId}`;

// Participant maps are copied with plain loops: object rest and spreads with a computed key
// take V8's slow paths, and every join, ACK and leave copies the map (bench/runtime.ts).

/** `ps` without `id`. */
function without(ps: Readonly<Record<string, Participant>>, id: string): Record<string, Participant> {
  const rest: Record<string, Participant> = {};
  for (const k in ps) if (k !== id) rest[k] = ps[k];
  return rest;
}

/** `ps` with `p` put under its id. */
function withParticipant(ps: Readonly<Record<string, Participant>>, p: Participant): Record<string, Participant> {
  const next: Record<string, Participant> = {};
  for (const k in ps) next[k] = ps[k];
  next[p.id] = p;
  return next;
}

/** A participant as the join describes it; a dial-out list only when given (RFC 5366). */
function newParticipant(info: ParticipantInfo, status: Participant['status'], since: number, dialOut?: readonly string[]): Participant {
  const p: { -readonly [K in keyof Participant]: Participant[K] } = { id: info.id, uri: info.uri, dialog: info.dialog, session: info.session, status, since };
  if (info.displayName !== undefined) p.displayName = info.displayName;
  if (dialOut !== undefined && dialOut.length > 0) p.dialOut = dialOut;
  return p;
}

/** `p` joined; its dial-out list, used once, dropped. */
function joinedNow(p: Participant): Participant {
  const j = newParticipant(p, 'joined', p.since);
  return p.nickname === undefined ? j : { ...j, nickname: p.nickname };
}

/**
 * The roster NOTIFYs for a change to `identities`, the participants being `ps`; undefined (and
 * nothing allocated) in a room nobody subscribed to.
 */
function rosterAfter(ctx: ConferenceContext, ps: Readonly<Record<string, Participant>>, identities: readonly string[]): ReturnType<typeof notifyChanges> | undefined {
  if (ctx.subscribers === undefined) return undefined;
  let any = false;
  for (const _ in ctx.subscribers) {
    any = true;
    break;
  }
  return any ? notifyChanges({ ...ctx, participants: ps }, identities) : undefined;
}

/** What `notifyRoster` needs of an action's `enqueue`. */
interface RosterEnqueue {
  emit(e: RoomEffect): void;
  assign(c: { subscribers: Record<string, RosterSubscription> }): void;
}

/** Emits the roster NOTIFYs for a change to `identities` (the participants now `ps`) and keeps the subscriptions' new state. */
function notifyRoster(enqueue: RosterEnqueue, ctx: ConferenceContext, ps: Readonly<Record<string, Participant>>, identities: readonly string[]): void {
  const roster = rosterAfter(ctx, ps, identities);
  if (roster === undefined) return;
  for (const e of roster.effects) enqueue.emit(e);
  enqueue.assign({ subscribers: roster.subscribers });
}

function sessionsExcept(ctx: ConferenceContext, id: string): unknown[] {
  return Object.values(ctx.participants)
    .filter((p) => p.id !== id && p.status === 'joined')
    .map((p) => p.session);
}

/** The notice after a newcomer's history: how many others are in the room (joined, not still expected). */
function welcomeFor(ctx: ConferenceContext, id: string): string {
  let others = 0;
  for (const k in ctx.participants) if (k !== id && ctx.participants[k].status === 'joined') others++;
  return `Welcome to ${ctx.room}: ${others} other participant${others === 1 ? '' : 's'} here`;
}

/** The NOTIFY with the whole roster that follows every accepted SUBSCRIBE. */
function sipNotifyRosterFull(ctx: ConferenceContext, s: RosterSubscription) {
  return sipNotifyRoster(ctx.room, s, fullDocument(ctx));
}

function label(p: Participant): string {
  return labelOf(p);
}

/** Reasons put in the BYE of a participant the room drops (RFC 3326). */
const dropReason: Record<LeaveReason, string | undefined> = {
  bye: undefined, // the peer ended the dialog: no BYE back
  cancel: undefined,
  'connection-lost': 'SIP;cause=200;text="MSRP connection lost"',
  slow: 'SIP;cause=200;text="Too slow to keep up with the room"',
};

export const conferenceMachine = setup({
  types: {
    context: {} as ConferenceContext,
    input: {} as ConferenceInput,
    events: {} as ConferenceEvent,
    emitted: {} as RoomEffect,
  },
  guards: {
    mayCreate: ({ context, event }) => event.type === 'JOIN' && check(context.policy.create, event.participant.uri, 'create').ok,
    mayJoin: ({ context, event }) => event.type === 'JOIN' && check(context.policy.join, event.participant.uri, 'join').ok,
    isEmptyAdhoc: ({ context }) => !context.isStatic && Object.keys(context.participants).length === 0,
  },
  actions: {
    admit: enqueueActions(({ context, event, enqueue }, params?: { creator?: boolean }) => {
      if (event.type !== 'JOIN') return;
      // A dial-out list counts only in the INVITE that creates the room (RFC 5366 4).
      const p = newParticipant(event.participant, 'expected', event.at, params?.creator === true ? event.participant.dialOut : undefined);
      enqueue.assign({ participants: withParticipant(context.participants, p) });
      enqueue.emit(sipAcceptJoin(event.requestRef, p.id));
      enqueue.raise({ type: 'ACK_TIMEOUT', participantId: p.id }, { id: ackTimerId(p.id), delay: context.ackTimeoutMs });
    }),
    refuse: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'JOIN') return;
      const verdict = check(context.policy.join, event.participant.uri, 'join');
      enqueue.emit(sipRespond(event.requestRef, 403, verdict.reason));
    }),
    refuseCreate: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'JOIN') return;
      enqueue.emit(sipRespond(event.requestRef, 403, check(context.policy.create, event.participant.uri, 'create').reason));
    }),
    confirm: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ACK_RECEIVED') return;
      const p = context.participants[event.participantId];
      if (p?.status !== 'expected') return; // a retransmitted ACK, or one for someone gone
      enqueue.cancel(ackTimerId(p.id));
      // Joined; a dial-out list (RFC 5366) is used now, once, and dropped.
      const dialOut = p.dialOut;
      const ps = withParticipant(context.participants, joinedNow(p));
      enqueue.assign({ participants: ps });
      enqueue.emit(msrpNotice(context.room, sessionsExcept(context, p.id), `${label(p)} joined the room`));
      // Issue 5 item 9: the newcomer gets the last messages with their senders and times, then a welcome.
      enqueue.emit(msrpReplayHistory(context.room, p.session, context.historySize, welcomeFor(context, p.id)));
      for (const target of dialOut ?? []) enqueue.emit(sipReferToRoom(context.room, target, p.uri));
      notifyRoster(enqueue, context, ps, [identityOf(p.uri)]);
    }),
    dropUnacknowledged: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ACK_TIMEOUT') return;
      const p = context.participants[event.participantId];
      if (p?.status !== 'expected') return;
      enqueue.assign({ participants: without(context.participants, p.id) });
      enqueue.emit(sipBye(p.dialog, 'SIP;cause=408;text="ACK not received"'));
      enqueue.emit(msrpClose(p.session));
    }),
    remove: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'LEFT') return;
      const p = context.participants[event.participantId];
      if (p === undefined) return;
      if (p.status === 'expected') enqueue.cancel(ackTimerId(p.id));
      const rest = without(context.participants, p.id);
      enqueue.assign({ participants: rest });
      // The peer ended the dialog (BYE/CANCEL): no BYE back. A lost connection or a slow
      // reader leaves the dialog up, so the room ends it.
      const reason = dropReason[event.reason];
      if (reason !== undefined) enqueue.emit(sipBye(p.dialog, reason));
      enqueue.emit(msrpClose(p.session));
      const how = event.reason === 'slow' ? 'was dropped (too slow to keep up)' : event.reason === 'connection-lost' ? 'lost the connection' : 'left the room';
      if (p.status === 'joined') {
        enqueue.emit(msrpNotice(context.room, sessionsExcept(context, p.id), `${label(p)} ${how}`));
        notifyRoster(enqueue, context, rest, [identityOf(p.uri)]);
      }
    }),
    kick: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'KICK') return;
      const verdict = mayKick(context.policy, event.by);
      if (!verdict.ok) {
        enqueue.emit(sipRespond(event.requestRef, 403, verdict.reason));
        return;
      }
      const target = identityOf(event.target);
      const victims = Object.values(context.participants).filter((p) => identityOf(p.uri) === target);
      if (victims.length === 0) {
        enqueue.emit(sipRespond(event.requestRef, 404, `${target} is not in the room`));
        return;
      }
      // RFC 4579 5.11: accept the REFER, then BYE the participant on the focus' dialog.
      enqueue.emit(sipRespond(event.requestRef, 202));
      let ps = context.participants;
      for (const [i, p] of victims.entries()) {
        if (p.status === 'expected') enqueue.cancel(ackTimerId(p.id));
        ps = without(ps, p.id);
        // The first BYE's answer is what the REFER's final NOTIFY reports.
        enqueue.emit(sipBye(p.dialog, 'SIP;cause=200;text="Removed from the room"', i === 0 ? event.requestRef : undefined));
        enqueue.emit(msrpClose(p.session));
      }
      enqueue.assign({ participants: ps });
      const rest = Object.values(ps).filter((p) => p.status === 'joined').map((p) => p.session);
      enqueue.emit(msrpNotice(context.room, rest, `${target} was removed from the room`));
      notifyRoster(enqueue, context, ps, [target]);
    }),
    relay: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'MESSAGE_RECEIVED') return;
      // Emits only: the context stays the same object, so the runtime need not rewrite the snapshot.
      for (const e of decideRelay(context, event)) enqueue.emit(e);
    }),
    subscribe: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SUBSCRIBED') return;
      const s = event.subscription;
      const id = s.dialog.localTag;
      const subs = { ...(context.subscribers ?? {}) };
      // RFC 6665 4.2.1.1/4.2.1.2: 200, then at once a NOTIFY with the whole roster.
      enqueue.emit(sipRespond(event.requestRef, 200));
      enqueue.emit(sipNotifyRosterFull(context, s));
      if (s.state === 'terminated') {
        delete subs[id]; // Expires 0: fetched or unsubscribed; that NOTIFY was the last
        enqueue.cancel(subscriptionTimerId(id));
      } else {
        subs[id] = afterNotify(s, true);
        enqueue.raise({ type: 'SUBSCRIPTION_TIMEOUT', subscriptionId: id }, { id: subscriptionTimerId(id), delay: Math.max(0, s.expiresAt - event.at) });
      }
      enqueue.assign({ subscribers: subs });
    }),
    unsubscribe: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'SUBSCRIPTION_TIMEOUT' && event.type !== 'SUBSCRIPTION_FAILED') return;
      const s = context.subscribers?.[event.subscriptionId];
      if (s === undefined) return;
      const { [event.subscriptionId]: _gone, ...rest } = context.subscribers ?? {};
      // A timed-out subscription gets its final NOTIFY; a failed one cannot be reached.
      if (event.type === 'SUBSCRIPTION_TIMEOUT') enqueue.emit(sipNotifyRoster(context.room, { ...s, state: 'terminated', reason: 'timeout' }, undefined));
      else enqueue.cancel(subscriptionTimerId(event.subscriptionId));
      enqueue.assign({ subscribers: rest });
    }),
    endRoster: enqueueActions(({ context, enqueue }) => {
      for (const e of endSubscriptions(context, 'noresource')) enqueue.emit(e);
      for (const id of Object.keys(context.subscribers ?? {})) enqueue.cancel(subscriptionTimerId(id));
      enqueue.assign({ subscribers: {} });
    }),
    clearHistory: enqueueActions(({ context, enqueue }) => {
      enqueue.emit(storeClearHistory(context.room));
    }),
    nickname: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'NICKNAME_REQUESTED') return;
      const d = decideNickname(context, event);
      const p = context.participants[event.participantId];
      if (d.nickname !== undefined && p !== undefined && p.nickname !== d.nickname) {
        const ps = withParticipant(context.participants, { ...p, nickname: d.nickname });
        enqueue.assign({ participants: ps });
        if (p.status === 'joined') {
          enqueue.emit(msrpNotice(context.room, sessionsExcept(context, p.id), `${label(p)} is now known as ${d.nickname}`));
          notifyRoster(enqueue, context, ps, [identityOf(p.uri)]);
        }
      }
      for (const e of d.effects) enqueue.emit(e);
    }),
    invite: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'INVITE_REQUESTED') return;
      // Who may invite: owners, moderators and anyone in the room; whom: anyone the join policy admits.
      const by = identityOf(event.by);
      const inRoom = Object.values(context.participants).some((p) => p.status === 'joined' && identityOf(p.uri) === by);
      if (!inRoom && !mayKick(context.policy, event.by).ok) {
        enqueue.emit(sipRespond(event.requestRef, 403, `${by} is not in the room`));
        return;
      }
      const verdict = check(context.policy.join, event.target, 'join');
      if (!verdict.ok) {
        enqueue.emit(sipRespond(event.requestRef, 403, verdict.reason));
        return;
      }
      enqueue.emit(sipRespond(event.requestRef, 202));
      enqueue.emit(sipInviteUser(context.room, event.target, event.by, event.requestRef));
    }),
    inviteeJoined: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'INVITEE_JOINED') return;
      const p: Participant = { ...event.participant, status: 'joined', since: event.at };
      const ps = withParticipant(context.participants, p);
      enqueue.assign({ participants: ps });
      enqueue.emit(msrpNotice(context.room, sessionsExcept(context, p.id), `${label(p)} joined the room`));
      enqueue.emit(msrpReplayHistory(context.room, p.session, context.historySize, welcomeFor(context, p.id)));
      notifyRoster(enqueue, context, ps, [identityOf(p.uri)]);
    }),
    setPolicy: assign({
      policy: ({ context, event }) => (event.type === 'ROOM_PROVISIONED' ? event.policy : context.policy),
      isStatic: true,
      // Kept when the event leaves it out, so a policy change does not reset the history size.
      historySize: ({ context, event }) => (event.type === 'ROOM_PROVISIONED' && event.historySize !== undefined ? event.historySize : context.historySize),
    }),
    endEveryone: enqueueActions(({ context, enqueue }) => {
      for (const p of Object.values(context.participants)) {
        if (p.status === 'expected') enqueue.cancel(ackTimerId(p.id));
        enqueue.emit(sipBye(p.dialog, 'SIP;cause=200;text="Room deleted"'));
        enqueue.emit(msrpClose(p.session));
      }
      enqueue.assign({ participants: {} });
    }),
  },
}).createMachine({
  id: 'conference',
  context: ({ input }) => ({
    room: input.room,
    isStatic: input.isStatic ?? false,
    policy: input.policy ?? openPolicy,
    ackTimeoutMs: input.ackTimeoutMs ?? 5000,
    historySize: input.historySize ?? DEFAULT_HISTORY_SIZE,
    participants: {},
  }),
  initial: 'idle',
  states: {
    idle: {
      on: {
        JOIN: [
          { guard: 'mayCreate', target: 'open', actions: { type: 'admit', params: { creator: true } } },
          { target: 'closed', actions: 'refuseCreate' },
        ],
        ROOM_PROVISIONED: { target: 'open', actions: 'setPolicy' },
      },
    },
    open: {
      // An ad-hoc room ends with its last participant, and its history with it.
      always: { guard: 'isEmptyAdhoc', target: 'closed', actions: ['endRoster', 'clearHistory'] },
      on: {
        JOIN: [{ guard: 'mayJoin', actions: 'admit' }, { actions: 'refuse' }],
        ACK_RECEIVED: { actions: 'confirm' },
        ACK_TIMEOUT: { actions: 'dropUnacknowledged' },
        LEFT: { actions: 'remove' },
        KICK: { actions: 'kick' },
        INVITE_REQUESTED: { actions: 'invite' },
        INVITEE_JOINED: { actions: 'inviteeJoined' },
        ROOM_PROVISIONED: { actions: 'setPolicy' },
        MESSAGE_RECEIVED: { actions: 'relay' },
        NICKNAME_REQUESTED: { actions: 'nickname' },
        SUBSCRIBED: { actions: 'subscribe' },
        SUBSCRIPTION_TIMEOUT: { actions: 'unsubscribe' },
        SUBSCRIPTION_FAILED: { actions: 'unsubscribe' },
        ROOM_DELETED: { target: 'closed', actions: ['endEveryone', 'endRoster', 'clearHistory'] },
      },
    },
    closed: { type: 'final' },
  },
});
