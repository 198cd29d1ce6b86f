/**
 * The chat-room application (RFC 4579 focus with MSRP media, issue 5): routes SIP requests for
 * rooms (users of the conference domains, or any request with `X-Parley-App: conference`) and
 * MSRP traffic of their sessions to one room actor per room, and performs the room's effects.
 *
 * Routing (STYLE.md rule 5), in-dialog first:
 * - ACK -> ACK_RECEIVED; BYE -> 200, LEFT(bye); CANCEL (told by the transport) -> LEFT(cancel);
 *   SUBSCRIBE refresh/unsubscribe -> SUBSCRIBED; NOTIFY of our dial-out REFERs -> 200;
 *   other in-dialog requests of a known participant -> 501; unknown dialog -> 481.
 * - INVITE -> JOIN (488 without a usable MSRP chat offer, 403 refused by policy; a dial-out
 *   list, RFC 5366, rides along); REFER with `Refer-To: <x;method=BYE>` -> KICK, with a plain
 *   Refer-To -> INVITE_REQUESTED; SUBSCRIBE Event: conference -> SUBSCRIBED (404 for no such
 *   room); OPTIONS -> 200 with Contact ;isfocus; MESSAGE and anything else -> 405 + Allow.
 * - MSRP SEND -> MESSAGE_RECEIVED (400 for broken CPIM; 415 for non-CPIM is the session's);
 *   NICKNAME -> NICKNAME_REQUESTED; loss of the session -> LEFT(connection-lost); a slow reader
 *   -> LEFT(slow).
 * Every answer that acknowledges data (MSRP 200) is sent by the executor after the commit.
 *
 * A chat message is relayed to the other participants at once, before its commit, when nothing
 * the room decided earlier is still waiting for a commit to reach them (`relayAtOnce`): LMDB
 * commits wait for the previous transaction's fsync, and fsyncs on a busy disk stall for
 * hundreds of milliseconds (bench/room.ts). Its sender's MSRP 200 still waits for the commit of
 * its history row, so nothing acknowledged is lost; a kill in between leaves a message the
 * others saw, unacknowledged and not in the history. Large messages are streamed the same way
 * (stream.ts).
 */
import type { Application } from '../../server.js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import type { Store, Write } from '../../actors/store.js';
import type { DispatchResult } from '../../actors/supervisor.js';
import { ROOM_KIND, roomKind } from '../../actors/roomKind.js';
import { parseCpim } from '../../formats/cpim.js';
import { answerSetup, buildMsrpAnswer } from '../../formats/sdp.js';
import { conferenceEvents as ev, type ConferenceContext, type ConferenceEvent } from '../../machines/conference.js';
import { decideRelay, type MessageReceived } from '../../machines/roomRelay.js';
import { ROOM_EFFECT_TYPES } from '../../machines/effects.js';
import type { RoomPolicy } from '../../machines/policy.js';
import type { Config } from '../../config.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { IncomingMessage, IncomingNickname, MsrpSession } from '../../transport/msrp/session.js';
import { createUasDialog } from '../../transport/sip/dialog.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import type { IncomingRequest, SipTransport } from '../../transport/sip/transport.js';
import { formatUri, parseUri } from '../../transport/sip/uri.js';
import { acceptRefer, acceptSubscribe, CONFERENCE_EVENT, refreshSubscription, type Subscription } from '../../transport/sip/subscription.js';
import { RoomExecutor, ROOM_ALLOW } from './executor.js';
import { RoomOutbound } from './outbound.js';
import { StreamRelay } from './stream.js';
import { RoomHistory } from './history.js';
import { Relay, relayedCpim, type RelayLimits } from './relay.js';
import { CHATROOM_CAPABILITIES, messageFromCpim, readJoin, requesterOf, roomOf } from './request.js';

/** Persisted rooms `recover` reads per turn of the event loop. */
const RECOVER_PAGE = 500;

/** The part of the supervisor the room application uses. */
export interface RoomDispatcher {
  dispatch(kind: string, key: string, event: ConferenceEvent, opts?: { create?: boolean }): Promise<DispatchResult>;
  peek(kind: string, key: string): { value: unknown; context: unknown } | undefined;
  listPersisted(opts: { kind?: string; after?: readonly [string, string]; limit?: number }): Iterable<{ kind: string; key: string; record: { context: unknown } }>;
}

export interface RoomAppOptions {
  readonly store: Store;
  readonly sip: SipTransport;
  readonly msrp: MsrpEndpoint;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Domains whose users are rooms. */
  readonly domains: readonly string[];
  /** The supervisor, once it exists (it is built after the applications). */
  readonly dispatcher: () => RoomDispatcher;
  /** Time a joiner has to ACK (ms, default 5000, RFC 4579 leaves it to the focus). */
  readonly ackTimeoutMs?: number;
  /** Messages kept per room unless the room says otherwise (default 50). */
  readonly historySize?: number;
  /**
   * Believe P-Asserted-Identity (RFC 3325): only when SIP comes from trusted peers alone
   * (`trustedPeers` configured). Default false: From names the requester.
   */
  readonly trustAsserted?: boolean;
  /** Policy of new ad-hoc rooms (default: anyone may create and join). */
  readonly defaultPolicy?: RoomPolicy;
  readonly relayLimits?: RelayLimits;
  /** Messages larger than this are relayed chunk by chunk as they arrive (default 64 KiB). */
  readonly streamThresholdBytes?: number;
  /**
   * A participant whose MSRP connection is not up this long after its session was created is
   * dropped like one whose connection was lost (default 30 s; RFC 4975 sets no bound).
   */
  readonly connectTimeoutMs?: number;
  /** Benchmark hook: told after each relayed message is answered by its recipient. */
  readonly onDelivered?: (sessionId: string, status: number) => void;
}

export interface RoomApplication extends Application {
  readonly name: 'room';
  readonly history: RoomHistory;
  readonly relay: Relay;
  storeWrites(effect: Effect, actor: ActorRef): readonly Write[];
  /** Drops the participants of rooms persisted by an earlier process (their MSRP sessions are gone). */
  recover(): Promise<number>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Where a dialog or MSRP session of a participant belongs. */
interface Membership {
  readonly room: string;
  readonly participantId: string;
}

/** The default room policy of the configuration: ad-hoc rooms and administrator-created ones start with it. */
export function configuredRoomPolicy(config: Config): RoomPolicy {
  return {
    create: { allow: config.roomCreateAllow, deny: config.roomCreateDeny },
    join: { allow: config.roomJoinAllow, deny: config.roomJoinDeny },
    owners: [],
    moderators: config.roomModerators,
  };
}

export function createRoomApplication(o: RoomAppOptions): RoomApplication {
  const log = o.logger.child({ component: 'room' });
  const domains = o.domains.map((d) => d.toLowerCase());
  const history = new RoomHistory(o.store);
  const bySession = new Map<string, Membership>();
  /** Participant dialogs by our To tag (the participant id). */
  const byDialog = new Map<string, Membership>();
  let stopped = false;

  const relay = new Relay(
    o.msrp,
    log,
    (sessionId) => {
      const m = bySession.get(sessionId);
      // Told while the room's effects are being handed out: the drop is a later event.
      if (m !== undefined) queueMicrotask(() => void send(m.room, ev.left(m.participantId, 'slow')));
    },
    o.relayLimits,
    o.onDelivered,
  );
  /** The focus URI of a room on this server: the room's user at our SIP address. */
  const contactOf = (room: string): string => {
    const c = parseUri(o.sip.contactUri());
    const user = parseUri(room)?.user;
    return c === undefined ? room : formatUri({ ...c, ...(user !== undefined ? { user } : {}) });
  };
  /** Roster subscription dialogs by our To tag. */
  const bySubscription = new Map<string, string>();
  const executor = new RoomExecutor({
    sip: o.sip,
    msrp: o.msrp,
    clock: o.clock,
    logger: log,
    history,
    relay,
    contactOf,
    onSubscriptionFailed: (room, id) => {
      bySubscription.delete(id);
      void send(room, ev.subscriptionFailed(id));
    },
    referToRoom: (room, target, referredBy, actor) => {
      outbound.referToRoom(room, target, referredBy).then(
        (status) => actor.logger.info({ target, status }, 'room: dial-out REFER answered'),
        (err: unknown) => actor.logger.warn({ err, target }, 'room: dial-out REFER failed'),
      );
    },
    inviteUser: (room, target, referredBy, refer, actor) => {
      const report = (status: number, reason: string) => {
        if (refer !== undefined) refer = executor.notifySipfrag(refer, status, reason, actor);
      };
      outbound.invite(room, target, referredBy, report).then(
        async (call) => {
          if (call === undefined) return;
          const m: Membership = { room, participantId: call.dialog.localTag };
          byDialog.set(m.participantId, m);
          watch(call.session, m);
          const r = await send(room, ev.inviteeJoined({ id: m.participantId, ...call.who, dialog: call.dialog, session: call.session.id }, o.clock.now()));
          if (r === 'ok') return;
          // The room is gone meanwhile: end the call just set up.
          byDialog.delete(m.participantId);
          call.hangUp('SIP;cause=410;text="Room gone"');
        },
        (err: unknown) => actor.logger.warn({ err, target }, 'room: invitation failed'),
      );
    },
  });
  const outbound = new RoomOutbound({ sip: o.sip, msrp: o.msrp, clock: o.clock, contactOf });
  const stream = new StreamRelay({
    msrp: o.msrp,
    logger: log,
    peek: (room) => o.dispatcher().peek(ROOM_KIND, room)?.context as ConferenceContext | undefined,
    now: () => o.clock.now(),
    idle: (sessionId) => relay.isIdle(sessionId),
    ...(o.streamThresholdBytes !== undefined ? { thresholdBytes: o.streamThresholdBytes } : {}),
  });

  const kind = roomKind({
    ...(o.ackTimeoutMs !== undefined ? { ackTimeoutMs: o.ackTimeoutMs } : {}),
    ...(o.historySize !== undefined ? { historySize: o.historySize } : {}),
    ...(o.defaultPolicy !== undefined ? { policy: o.defaultPolicy } : {}),
  });

  /**
   * Per room, the events dispatched whose effects reach participants only after their commit
   * (all but messages relayed at once), until those effects are out: while a room has any, a
   * message is relayed after its commit too, so that it cannot overtake them.
   */
  const awaitingCommit = new Map<string, number>();

  function send(room: string, event: ConferenceEvent, create = false): Promise<DispatchResult> {
    const relayed = event.type === 'MESSAGE_RECEIVED' && event.relayedTo !== undefined;
    if (!relayed) awaitingCommit.set(room, (awaitingCommit.get(room) ?? 0) + 1);
    let dispatched: Promise<DispatchResult>;
    try {
      dispatched = o.dispatcher().dispatch(ROOM_KIND, room, event, { create });
    } catch (err) {
      dispatched = Promise.reject(err); // still counted down below
    }
    return dispatched
      .catch((err: unknown) => {
        log.error({ err, room, event: event.type }, 'room: event not committed');
        return 'failed' as const;
      })
      .finally(() => {
        if (relayed) return;
        const n = (awaitingCommit.get(room) ?? 1) - 1;
        if (n === 0) awaitingCommit.delete(room);
        else awaitingCommit.set(room, n);
      });
  }

  /**
   * Relays a message now, by the room's own rules applied to its current state (the event is
   * dispatched right after, in the same turn, so the room decides on that same state), when
   * nothing the room decided before is waiting for its commit. Returns the sessions it went
   * to, or undefined to leave the relay to the room (after the commit).
   */
  function relayAtOnce(room: string, event: MessageReceived): readonly string[] | undefined {
    if (awaitingCommit.has(room)) return undefined;
    const ctx = o.dispatcher().peek(ROOM_KIND, room)?.context as ConferenceContext | undefined;
    if (ctx === undefined) return undefined;
    const r = decideRelay(ctx, event).find((e) => e.type === 'msrp.relay');
    if (r === undefined || r.type !== 'msrp.relay') return undefined; // refused: the room answers
    relay.send(r.sessions, relayedCpim(r.message));
    return r.sessions as string[];
  }

  o.sip.onCancel((req) => {
    const m = byDialog.get(req.localTag);
    if (req.request.method !== 'INVITE' || m === undefined) return;
    byDialog.delete(req.localTag);
    void send(m.room, ev.left(m.participantId, 'cancel'));
  });

  /** `Contact: <sip:room@focus-host:port;transport=x>;isfocus` (RFC 4579 5.1). */
  function focusContact(room: string, req: IncomingRequest): string {
    const c = parseUri(o.sip.contactUri(req.source.transport));
    const user = parseUri(room)?.user;
    return c === undefined ? `<${room}>;isfocus` : `<${formatUri({ ...c, ...(user !== undefined ? { user } : {}) })}>;isfocus`;
  }

  function watch(session: MsrpSession, m: Membership): void {
    bySession.set(session.id, m);
    const timer = o.clock.setTimeout(() => {
      if (session.connection === undefined) session.close('connect-timeout');
    }, o.connectTimeoutMs ?? 30_000);
    session.once('connected', () => o.clock.clearTimeout(timer));
    session.on('chunk', (c) => stream.onChunk(m.room, m.participantId, session.id, c));
    session.on('message', (msg) => onSend(m, msg, stream.takeStreamed(session.id, msg.messageId)));
    session.on('nickname', (n) => onNickname(m, n));
    session.on('ended', ({ reason }) => {
      o.clock.clearTimeout(timer);
      bySession.delete(session.id);
      // A BYE or CANCEL already told the room (its client may close MSRP on the 200).
      const leaveReported = !byDialog.has(m.participantId);
      // Every way out of the room (BYE, kick, drop, room deleted) closes the session.
      byDialog.delete(m.participantId);
      relay.forget(session.id);
      stream.forgetSession(session.id);
      // Closed by the room itself (left, kicked, dropped) or at shutdown: nothing to tell it.
      if (reason === 'left-room' || stopped || leaveReported) return;
      void send(m.room, ev.left(m.participantId, 'connection-lost'));
    });
  }

  async function onSend(m: Membership, msg: IncomingMessage, streamedTo: readonly string[] | undefined): Promise<void> {
    const cpim = parseCpim(msg.body);
    if (cpim instanceof ProtocolError) return msg.respond(400, cpim.message);
    const ref = randomUUID();
    executor.pendingAnswers.set(ref, msg);
    try {
      const event = messageFromCpim(cpim, m.participantId, ref, o.clock.now());
      const to = streamedTo ?? relayAtOnce(m.room, event);
      const r = await send(m.room, to === undefined ? event : { ...event, relayedTo: to });
      if (!msg.answered) msg.respond(r === 'absent' ? 481 : 500);
    } finally {
      executor.pendingAnswers.delete(ref);
    }
  }

  async function onNickname(m: Membership, n: IncomingNickname): Promise<void> {
    const ref = randomUUID();
    executor.pendingAnswers.set(ref, n);
    try {
      const r = await send(m.room, ev.nicknameRequested(m.participantId, ref, n.nickname));
      if (!n.answered) n.respond(r === 'absent' ? 481 : 500);
    } finally {
      executor.pendingAnswers.delete(ref);
    }
  }

  async function onInvite(req: IncomingRequest, room: string): Promise<void> {
    const { offer, dialOut } = readJoin(req.request);
    const who = requesterOf(req.request, o.trustAsserted ?? false);
    const dialog = createUasDialog(req.request, req.localTag);
    const setup = answerSetup(offer.media.setup);
    const session = o.msrp.createSession({ setup, acceptTypes: ['message/cpim'] });
    // TCP/TLS/MSRP needs an msrps endpoint and TCP/MSRP a plain one: no answer can bridge them.
    if (offer.media.tls !== (session.localPath[0].scheme === 'msrps')) {
      session.close('left-room');
      throw new ProtocolError('ROOM_TRANSPORT', 488, `Not Acceptable Here - the room speaks ${session.localPath[0].scheme === 'msrps' ? 'TCP/TLS/MSRP' : 'TCP/MSRP'}`);
    }
    const bad = session.setRemote({ path: offer.media.path, maxSize: offer.media.maxSize });
    if (bad !== undefined) {
      session.close('left-room');
      throw new ProtocolError('ROOM_BAD_PATH', 488, `Not Acceptable Here - ${bad.message}`);
    }
    const sdp = buildMsrpAnswer(offer.media, {
      ...session.sdpLocal,
      acceptTypes: offer.types.acceptTypes,
      acceptWrappedTypes: offer.types.acceptWrappedTypes,
      chatroom: CHATROOM_CAPABILITIES,
      setup,
    });
    const m: Membership = { room, participantId: req.localTag };
    byDialog.set(m.participantId, m);
    watch(session, m);
    const ref = randomUUID();
    const join = { request: req, sdp, contact: focusContact(room, req), session, accepted: false };
    executor.pendingJoins.set(ref, join);
    executor.pendingRequests.set(ref, req);
    let r: DispatchResult = 'failed';
    try {
      r = await send(
        room,
        ev.join({ id: m.participantId, uri: who.uri, ...(who.displayName ? { displayName: who.displayName } : {}), dialog, session: session.id, ...(dialOut.length > 0 ? { dialOut } : {}) }, ref, o.clock.now()),
        true,
      );
    } finally {
      executor.pendingJoins.delete(ref);
      executor.pendingRequests.delete(ref);
      if (!join.accepted) {
        byDialog.delete(m.participantId);
        session.close('left-room');
        if (!req.answered) req.respond(500, r === 'failed' ? 'Server Internal Error - not committed' : undefined);
      }
    }
  }

  /**
   * REFER to a room (RFC 4579 5.5 and 5.11): `acceptRefer` checks it and makes its implicit
   * subscription (RFC 3515; none with `Refer-Sub: false`, RFC 4488), the room decides.
   */
  async function onRefer(req: IncomingRequest, room: string): Promise<void> {
    const accepted = acceptRefer(req.request, { localTag: req.localTag, now: o.clock.now() });
    if (!accepted.ok) return req.respond(accepted.answer.status, accepted.answer.reason, { headers: accepted.answer.headers });
    const referTo = parseNameAddr(accepted.referTo);
    const target = referTo === undefined ? undefined : parseUri(referTo.uri);
    if (referTo === undefined || target === undefined) return req.respond(400, 'Bad Request - malformed Refer-To');
    const kick = (target.params.method ?? '').toUpperCase() === 'BYE';
    if (!kick && target.params.method !== undefined && (target.params.method ?? '').toUpperCase() !== 'INVITE') {
      return req.respond(501, `Not Implemented - REFER for method ${target.params.method}`);
    }
    const who = requesterOf(req.request, o.trustAsserted ?? false);
    const ref = randomUUID();
    executor.pendingRequests.set(ref, req);
    // The room answers 202 (or refuses); the answer carries acceptRefer's headers (Refer-Sub: false).
    if (accepted.answer.headers.length > 0) executor.pendingHeaders.set(ref, accepted.answer.headers);
    executor.pendingRefers.set(ref, { ...(accepted.subscription !== undefined ? { subscription: accepted.subscription } : {}), kind: kick ? 'kick' : 'invite' });
    try {
      const { params: _p, headers: _h, ...bare } = target;
      const plain = formatUri({ ...bare, params: {}, headers: {} });
      // An invitation keeps the URI's transport parameters (where to reach the user).
      const invitee = formatUri({ ...target, params: Object.fromEntries(Object.entries(target.params).filter(([k]) => k !== 'method')), headers: {} });
      const r = await send(room, kick ? ev.kick(who.uri, plain, ref) : ev.inviteRequested(who.uri, invitee, ref));
      if (!req.answered) req.respond(r === 'absent' ? 404 : 500, r === 'absent' ? 'Not Found - no such room' : undefined);
    } finally {
      executor.pendingRequests.delete(ref);
      executor.pendingRefers.delete(ref);
      executor.pendingHeaders.delete(ref);
    }
  }

  /**
   * SUBSCRIBE (RFC 6665 with the RFC 4575 package): subscription.ts decides 489/423/406/400;
   * the room answers 200 and sends the full roster; a room that does not exist gets 404.
   */
  async function onSubscribe(req: IncomingRequest, room: string, current: Subscription | undefined): Promise<void> {
    const now = o.clock.now();
    const d =
      current === undefined
        ? acceptSubscribe(req.request, { packages: [CONFERENCE_EVENT], localTag: req.localTag, now })
        : refreshSubscription(current, req.request, { package: CONFERENCE_EVENT, now });
    if (!d.ok) return req.respond(d.answer.status, d.answer.reason, { headers: d.answer.headers });
    const ref = randomUUID();
    executor.pendingRequests.set(ref, req);
    executor.pendingHeaders.set(ref, d.answer.headers);
    const id = d.subscription.dialog.localTag;
    bySubscription.set(id, room);
    try {
      const r = await send(room, ev.subscribed(d.subscription, ref, now));
      if (r === 'absent') bySubscription.delete(id);
      if (!req.answered) req.respond(r === 'absent' ? 404 : 500, r === 'absent' ? 'Not Found - no such room' : undefined);
    } finally {
      executor.pendingRequests.delete(ref);
      executor.pendingHeaders.delete(ref);
    }
    if (d.subscription.state === 'terminated') bySubscription.delete(id);
  }

  /** The roster subscription an in-dialog SUBSCRIBE refreshes, from the room's state. */
  function subscriptionOf(req: IncomingRequest): { room: string; sub: Subscription } | undefined {
    const tag = req.dialogId?.localTag;
    if (tag === undefined) return undefined;
    const room = bySubscription.get(tag) ?? roomOf(req.request, domains);
    const ctx = room === undefined ? undefined : (o.dispatcher().peek(ROOM_KIND, room)?.context as ConferenceContext | undefined);
    const sub = ctx?.subscribers?.[tag] as Subscription | undefined;
    return room !== undefined && sub !== undefined ? { room, sub } : undefined;
  }

  /** The membership of an in-dialog request: from memory, else from the room's state (after a restart). */
  function membershipOf(req: IncomingRequest): Membership | undefined {
    const tag = req.dialogId?.localTag;
    if (tag === undefined) return undefined;
    const known = byDialog.get(tag);
    if (known !== undefined) return known;
    const room = roomOf(req.request, domains);
    const ctx = room === undefined ? undefined : (o.dispatcher().peek(ROOM_KIND, room)?.context as ConferenceContext | undefined);
    return room !== undefined && ctx?.participants?.[tag] !== undefined ? { room, participantId: tag } : undefined;
  }

  async function onInDialog(req: IncomingRequest): Promise<void> {
    const method = req.request.method;
    // NOTIFYs of a dial-out REFER's implicit subscription, when the user ignored Refer-Sub: false.
    if (method === 'NOTIFY' && req.dialogId !== undefined && outbound.isReferDialog(req.dialogId.localTag)) return req.respond(200);
    if (method === 'SUBSCRIBE') {
      const s = subscriptionOf(req);
      if (s === undefined) return req.respond(481, 'Subscription Does Not Exist');
      return onSubscribe(req, s.room, s.sub);
    }
    const m = membershipOf(req);
    if (m === undefined) return req.respond(481, 'Call/Transaction Does Not Exist');
    if (method === 'ACK') {
      await send(m.room, ev.ackReceived(m.participantId));
      return;
    }
    if (method === 'BYE') {
      // RFC 3261 15.1.2: a BYE is answered 200 whatever the room does next.
      req.respond(200);
      byDialog.delete(m.participantId);
      await send(m.room, ev.left(m.participantId, 'bye'));
      return;
    }
    req.respond(501, 'Not Implemented', { headers: [{ name: 'allow', value: ROOM_ALLOW }] });
  }

  function route(req: IncomingRequest): Promise<void> | void {
    if (req.dialogId !== undefined) return onInDialog(req);
    const room = roomOf(req.request, domains);
    if (room === undefined) return req.respond(404, 'Not Found - not a room');
    switch (req.request.method) {
      case 'INVITE':
        return onInvite(req, room);
      case 'REFER':
        return onRefer(req, room);
      case 'SUBSCRIBE':
        return onSubscribe(req, room, undefined);
      case 'OPTIONS':
        // RFC 4579 5.2 / 6.1: discovery; the focus says so with isfocus and lists what it does.
        return req.respond(200, 'OK', {
          headers: [
            { name: 'contact', value: focusContact(room, req) },
            { name: 'allow', value: ROOM_ALLOW },
            { name: 'accept', value: 'application/sdp, message/sipfrag, application/resource-lists+xml, multipart/mixed' },
            { name: 'allow-events', value: 'conference, refer' },
            { name: 'supported', value: 'recipient-list-invite' },
          ],
        });
      default:
        // MESSAGE to a room included: the room speaks MSRP (PROTOCOLS.md: an established focus answers 405).
        return req.respond(405, 'Method Not Allowed', { headers: [{ name: 'allow', value: ROOM_ALLOW }] });
    }
  }

  /**
   * Drops the participants an earlier run left in persisted rooms (their MSRP sessions died
   * with it). Reads the rooms a page per turn of the event loop: with many persisted rooms a
   * single scan would hold up every request at start (the server takes traffic meanwhile; a
   * participant who joined since is in `byDialog` and stays).
   */
  async function recover(): Promise<number> {
    let dropped = 0;
    const d = o.dispatcher();
    let after: readonly [string, string] | undefined;
    for (;;) {
      const stale: Array<[string, string]> = [];
      let read = 0;
      for (const { kind, key, record } of d.listPersisted({ kind: ROOM_KIND, limit: RECOVER_PAGE, ...(after ? { after } : {}) })) {
        read++;
        after = [kind, key];
        const ctx = record.context as ConferenceContext;
        for (const id of Object.keys(ctx.participants ?? {})) if (!byDialog.has(id)) stale.push([key, id]);
      }
      for (const [room, id] of stale) {
        if ((await send(room, ev.left(id, 'connection-lost'))) === 'ok') dropped++;
      }
      if (read < RECOVER_PAGE) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (dropped > 0) log.info({ dropped }, 'room: participants of an earlier run dropped (their MSRP sessions are gone)');
    return dropped;
  }

  return {
    name: 'room',
    kinds: [kind],
    effectTypes: ROOM_EFFECT_TYPES,
    history,
    relay,
    accepts(req) {
      const tag = req.dialogId?.localTag;
      if (tag !== undefined && (byDialog.has(tag) || bySubscription.has(tag) || outbound.isReferDialog(tag))) return true;
      return roomOf(req.request, domains) !== undefined;
    },
    handle(req) {
      if (stopped) return req.respond(503, 'Service Unavailable - stopping');
      Promise.resolve()
        .then(() => route(req))
        .catch((err: unknown) => {
          if (err instanceof ProtocolError) return req.respond(err.status, err.message);
          log.error({ err, method: req.request.method }, 'room: request handling failed');
          req.respond(500);
        });
    },
    execute: (effect, actor) => executor.execute(effect, actor),
    storeWrites: (effect) => executor.storeWrites(effect),
    recover,
    async start() {
      await recover();
    },
    async stop() {
      stopped = true;
    },
  };
}
