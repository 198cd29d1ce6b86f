/**
 * The offline chat-session application (the SylkServer approach, PROTOCOLS.md): an MSRP chat
 * INVITE for a served user who has no registered contact (or that the proxy's failure route
 * marked with the configured header) is answered on the user's behalf; one `offline` actor per
 * session greets the caller, takes messages into the user's mailbox for the grace window, and
 * hangs up. Shaped as the server's `Application` (src/server.ts) without importing it.
 *
 * Routing: in-dialog requests (ACK, BYE) of a known session first, then new INVITEs.
 * Replies: 200 with the SDP answer after the session's commit; 488 no usable MSRP offer;
 * 404 not a served user; 400 malformed; 503 stopping; 500 when the commit failed. MSRP SENDs:
 * 200 after the mailbox's commit; 413 too large; 403 refused (quota, per-session limit);
 * 481 once the session has ended.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import type { ActorKind } from '../../actors/kind.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import { OFFLINE_SESSION_KIND, offlineSessionKey, offlineSessionKind } from '../../actors/offlineSessionKind.js';
import { SESSION_DELIVERY_KIND, sessionDeliveryKey, sessionDeliveryKind } from '../../actors/sessionDeliveryKind.js';
import { messageWaitingKind } from '../../actors/messageWaitingKind.js';
import { MESSAGE_WAITING_EFFECT_TYPES } from '../../machines/messageWaiting.js';
import { MessageWaiting } from './messageWaiting.js';
import { answerOffer } from './answer.js';
import { FetchSessions } from './fetch.js';
import type { MailboxStore } from '../../actors/mailboxStore.js';
import { CPIM_CONTENT_TYPE, parseCpim } from '../../formats/cpim.js';
import { readImdn } from '../../formats/imdn.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { IncomingMessage as MsrpIncoming, MsrpSession } from '../../transport/msrp/session.js';
import type { IncomingRequest, SipTransport } from '../../transport/sip/transport.js';
import type { RegistrationEvent } from '../../transport/sip/registrar.js';
import type { RegisteredContact } from '../../transport/sip/registrationStore.js';
import { createUasDialog } from '../../transport/sip/dialog.js';
import { getHeader } from '../../transport/sip/headers.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import { OFFLINE_SESSION_EFFECT_TYPES, offlineSessionEvents as ev, type OfflineSessionInput } from '../../machines/offlineSessionEffects.js';
import type { IncomingMessage } from '../../machines/mailboxEffects.js';
import { SESSION_DELIVERY_EFFECT_TYPES, sessionDeliveryEvents } from '../../machines/sessionDelivery.js';
import { DeliveryRunner, sessionMessages } from './deliveryRunner.js';
import { dedupKeysOf } from '../mailbox/request.js';
import type { StoreResponder } from '../mailbox/executor.js';
import { OfflineExecutor, type OfflineDispatcher } from './executor.js';
import { calleeOf, parseOfflineInvite, servedAor, type OfflineInvite } from './invite.js';

export interface OfflineConfig {
  /** Grace window from the answer to our BYE (ms). Default 90 s. */
  readonly graceMs: number;
  /** Greeting when the domain has none of its own. */
  readonly greeting: string;
  /** Greeting per domain (lower-case domain -> text). */
  readonly greetings: Readonly<Record<string, string>>;
  /** A header the proxy's failure route adds to mark an INVITE for offline answering ('' = none). */
  readonly markerHeader: string;
  /** Most messages taken in one session. Default 100. */
  readonly maxMessages: number;
  /** Largest message stored (bytes); larger gets MSRP 413. Default 64 KiB (the MESSAGE limit). */
  readonly maxBodyBytes: number;
  /** Most live offline sessions in this process; beyond it INVITEs get 486. Default 1,000. */
  readonly maxSessions: number;
  /** Delivery to the user: wait between failed runs (ms). Default 30 s (msilo check_time). */
  readonly deliveryRetryMs: number;
  /** Delivery: a run silent this long counts as failed (ms). Default 120 s. */
  readonly deliveryStallMs: number;
  /** Delivery: failed runs before waiting for the user's next registration. Default 10. */
  readonly deliveryMaxAttempts: number;
  /** Delivery: most distinct callers started per registration. Default 100. */
  readonly deliveryMaxCallers: number;
  /** Message-waiting: most subscriptions per user. Default 10. */
  readonly maxSubscriptions: number;
  /** Message-waiting: changes within this window share one NOTIFY (ms). Default 1 s. */
  readonly notifyIntervalMs: number;
}

export const defaultOfflineConfig: OfflineConfig = Object.freeze({
  graceMs: 90_000,
  greeting: 'I am offline but you can type a message',
  greetings: {},
  markerHeader: 'X-Parley-Offline',
  maxMessages: 100,
  maxBodyBytes: 65_536,
  maxSessions: 1000,
  deliveryRetryMs: 30_000,
  deliveryStallMs: 120_000,
  deliveryMaxAttempts: 10,
  deliveryMaxCallers: 100,
  maxSubscriptions: 10,
  notifyIntervalMs: 1000,
});

export interface OfflineAppOptions {
  readonly sip: SipTransport;
  readonly msrp: MsrpEndpoint;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Domains whose users are answered for. */
  readonly domains: readonly string[];
  /** Registered contacts: an INVITE for a user with one is not ours unless marked; deliveries go there. */
  readonly contacts: { contactsOf(aor: string): readonly RegisteredContact[] };
  /** The registrar's online/offline events: coming online starts the deliveries. */
  readonly registrationEvents?: { on(listener: (e: RegistrationEvent) => void): () => void };
  /** The mailbox's messages (the delivery runner reads them). */
  readonly mailboxStore: MailboxStore;
  /** The supervisor, once it exists. */
  readonly dispatcher: () => OfflineDispatcher;
  /** The mailbox application's pending store answers (`MailboxExecutor.pending`). */
  readonly mailboxPending: Map<string, StoreResponder>;
  /** True when requests come only from trusted proxies: P-Asserted-Identity is then believed. */
  readonly trustAsserted: boolean;
  /** Message-Account of message-waiting and the fetch address; default `sip:offline@<first domain>`. */
  readonly account?: string;
  readonly config?: Partial<OfflineConfig>;
}

export interface OfflineApplication {
  readonly name: 'offline';
  readonly kinds: readonly ActorKind[];
  readonly effectTypes: readonly string[];
  readonly executor: OfflineExecutor;
  readonly runner: DeliveryRunner;
  readonly messageWaiting: MessageWaiting;
  readonly fetches: FetchSessions;
  /** The Message-Account (fetch address). */
  readonly account: string;
  /** Starts one delivery per caller with session-written messages for `aor` (on registration). */
  deliverTo(aor: string): Promise<number>;
  accepts(request: IncomingRequest): boolean;
  handle(request: IncomingRequest): void;
  execute(effect: Effect, actor: ActorRef): void;
  stop(): Promise<void>;
}

export function createOfflineApplication(o: OfflineAppOptions): OfflineApplication {
  const cfg: OfflineConfig = { ...defaultOfflineConfig, ...o.config };
  const log = o.logger.child({ component: 'offline' });
  const domains = o.domains.map((d) => d.toLowerCase());
  const marker = cfg.markerHeader.toLowerCase();
  const executor = new OfflineExecutor({
    sip: o.sip,
    clock: o.clock,
    logger: log,
    dispatcher: o.dispatcher,
    mailboxPending: o.mailboxPending,
    // Marked INVITEs reach registered users too: deliver once the session is over.
    onEnded: (callee) => {
      if (stopped || o.contacts.contactsOf(callee).length === 0) return;
      deliverTo(callee).catch((err: unknown) => log.error({ err, callee }, 'offline: delivery not started'));
    },
  });
  const runner = new DeliveryRunner({
    sip: o.sip,
    msrp: o.msrp,
    clock: o.clock,
    logger: log,
    contacts: o.contacts,
    mailboxStore: o.mailboxStore,
    dispatcher: o.dispatcher,
    isFetching: (aor) => fetches.isFetching(aor),
  });
  const account = o.account !== undefined && o.account !== '' ? o.account : `sip:offline@${domains[0] ?? 'localhost'}`;
  const messageWaiting = new MessageWaiting({
    sip: o.sip,
    clock: o.clock,
    logger: log.child({ part: 'mwi' }),
    domains,
    dispatcher: o.dispatcher,
    mailboxStore: o.mailboxStore,
    account,
    trustAsserted: o.trustAsserted,
    maxSubscriptions: cfg.maxSubscriptions,
    minIntervalMs: cfg.notifyIntervalMs,
  });
  const fetches = new FetchSessions({
    sip: o.sip,
    msrp: o.msrp,
    clock: o.clock,
    logger: log.child({ part: 'fetch' }),
    domains,
    dispatcher: o.dispatcher,
    mailboxStore: o.mailboxStore,
    trustAsserted: o.trustAsserted,
    maxBodyBytes: cfg.maxBodyBytes,
    isDelivering: (aor) => runner.isDelivering(aor),
  });
  const accountAor = servedAor(account, domains) ?? account.toLowerCase();
  /** An INVITE to the Message-Account address (Request-URI, or To when a proxy rewrote it). */
  const isFetch = (req: IncomingRequest) => {
    const to = getHeader(req.request, 'to');
    const toUri = to === undefined ? undefined : parseNameAddr(to)?.uri;
    return [req.request.uri, toUri].some((u) => u !== undefined && (servedAor(u, domains) ?? u.toLowerCase()) === accountAor);
  };
  let stopped = false;

  /** One DELIVER per distinct caller with messages waiting (the actor runs one session at a time). */
  async function deliverTo(aor: string): Promise<number> {
    const callers = new Set<string>();
    for (const m of sessionMessages(o.mailboxStore, aor, o.clock.now(), Number.MAX_SAFE_INTEGER)) {
      if (m.session !== undefined) callers.add(m.session.caller);
      if (callers.size >= cfg.deliveryMaxCallers) break;
    }
    for (const caller of callers) {
      const key = sessionDeliveryKey(aor, caller);
      const input = { key, aor, caller, retryMs: cfg.deliveryRetryMs, stallMs: cfg.deliveryStallMs, maxAttempts: cfg.deliveryMaxAttempts };
      await o.dispatcher().dispatch(SESSION_DELIVERY_KIND, key, sessionDeliveryEvents.deliver(o.clock.now(), input), { create: true });
    }
    return callers.size;
  }

  const unsubscribe = o.registrationEvents?.on((e) => {
    if (e.type !== 'online' || stopped) return;
    deliverTo(e.aor).catch((err: unknown) => log.error({ err, aor: e.aor }, 'offline: delivery not started'));
  });

  const dispatch = (key: string, event: Parameters<OfflineDispatcher['dispatch']>[2], create = false) =>
    o.dispatcher().dispatch(OFFLINE_SESSION_KIND, key, event, { create });

  const known = (key: string) => executor.live.has(key) || o.dispatcher().peek(OFFLINE_SESSION_KIND, key) !== undefined;

  function greetingFor(callee: string): string {
    const domain = callee.slice(callee.lastIndexOf('@') + 1).toLowerCase();
    return cfg.greetings[domain] ?? cfg.greeting;
  }

  /** Wires one MSRP session's events to its actor. */
  function watch(key: string, session: MsrpSession, invite: OfflineInvite): void {
    session.on('connected', () => {
      dispatch(key, ev.msrpConnected(o.clock.now())).catch((err: unknown) => log.error({ err, key }, 'offline: MSRP connect not committed'));
    });
    session.on('message', (m) => onMessage(key, invite, m));
    session.on('ended', ({ reason }) => {
      // Closed by the session itself (BYE, window over), or by a stopping server: a restart must
      // not end the session, whose window the next process still closes on time.
      if (!executor.live.has(key) || stopped) return;
      executor.live.delete(key);
      dispatch(key, ev.msrpClosed(o.clock.now(), reason)).catch((err: unknown) => log.error({ err, key }, 'offline: MSRP close not committed'));
    });
  }

  function onMessage(key: string, invite: OfflineInvite, m: MsrpIncoming): void {
    if (m.body.length > cfg.maxBodyBytes) return m.respond(413, 'Message too large');
    const contentType = m.contentType ?? 'text/plain';
    let imdnId: string | undefined;
    if (contentType.toLowerCase().startsWith(CPIM_CONTENT_TYPE)) {
      const cpim = parseCpim(m.body);
      if (cpim instanceof ProtocolError) return m.respond(400, cpim.message);
      imdnId = readImdn(cpim).messageId;
    }
    const message: IncomingMessage = {
      ruri: invite.callee,
      from: invite.from,
      to: invite.to,
      contentType,
      body: m.body,
      callId: invite.callId,
      cseq: 0,
      ...(imdnId !== undefined ? { messageId: imdnId } : {}),
      session: { caller: invite.caller },
    };
    // A re-sent SEND repeats its MSRP Message-ID in this session; a re-sent CPIM message its IMDN id.
    const dedupKeys = dedupKeysOf(`${invite.callId}\u0000${m.messageId}`, 0, imdnId);
    const ref = randomUUID();
    executor.pendingMsrp.set(ref, m);
    dispatch(key, ev.messageReceived(o.clock.now(), ref, message, dedupKeys))
      .then((r) => {
        if (r !== 'ok') m.respond(r === 'absent' ? 481 : 403, r === 'absent' ? 'Session ended' : 'Not stored');
      })
      .catch((err: unknown) => {
        log.error({ err, key }, 'offline: message not committed');
        m.respond(403, 'Not stored');
      })
      .finally(() => executor.pendingMsrp.delete(ref));
  }

  async function onInvite(req: IncomingRequest): Promise<void> {
    if (executor.live.size >= cfg.maxSessions) return req.respond(486, 'Busy Here - too many offline sessions');
    const invite = parseOfflineInvite(req.request, domains, o.trustAsserted);
    const dialog = createUasDialog(req.request, req.localTag);
    const key = offlineSessionKey(invite.callId, req.localTag);
    const { session, sdp } = answerOffer(o.msrp, invite.offer, invite.types, cfg.maxBodyBytes);
    executor.live.set(key, { msrp: session, sdp, acceptTypes: invite.types.acceptTypes, callee: invite.callee, caller: invite.caller });
    watch(key, session, invite);
    const input: OfflineSessionInput = {
      key,
      callee: invite.callee,
      caller: invite.caller,
      dialog,
      greeting: greetingFor(invite.callee),
      graceMs: cfg.graceMs,
      maxMessages: cfg.maxMessages,
    };
    const ref = randomUUID();
    executor.pendingSip.set(ref, req);
    try {
      const r = await dispatch(key, ev.offered(o.clock.now(), ref, input), true);
      if (r !== 'ok') throw new Error(`offered: ${r}`);
    } catch (err) {
      log.error({ err, key }, 'offline: session not created');
      executor.live.delete(key);
      session.close('not-created');
      req.respond(500, 'Server Internal Error - session not created');
    } finally {
      executor.pendingSip.delete(ref);
    }
  }

  async function inDialog(req: IncomingRequest, key: string): Promise<void> {
    const method = req.request.method;
    if (method === 'ACK') {
      await dispatch(key, ev.ackReceived(o.clock.now()));
      const s = executor.live.get(key);
      // RFC 6135: we connect when we answered a=setup:active (the caller offered passive).
      if (s !== undefined && s.msrp.setup === 'active' && s.msrp.connection === undefined) {
        const r = await s.msrp.connect();
        if (r.status !== 200) log.info({ key, status: r.status, reason: r.reason }, 'offline: MSRP connect failed');
      }
      return;
    }
    if (method === 'BYE') {
      const ref = randomUUID();
      executor.pendingSip.set(ref, req);
      try {
        const r = await dispatch(key, ev.byeReceived(o.clock.now(), ref));
        if (r === 'absent') req.respond(481, 'Call/Transaction Does Not Exist');
      } finally {
        executor.pendingSip.delete(ref);
      }
      return;
    }
    // A re-INVITE or anything else: this session changes nothing (RFC 3261 14.2: 488 keeps it).
    if (method === 'INVITE') return req.respond(488, 'Not Acceptable Here - offline session');
    req.respond(405, 'Method Not Allowed', { headers: [{ name: 'allow', value: 'INVITE, ACK, BYE' }] });
  }

  return {
    name: 'offline',
    kinds: [offlineSessionKind(), sessionDeliveryKind(), messageWaitingKind(() => o.sip.contactUri())],
    effectTypes: [...OFFLINE_SESSION_EFFECT_TYPES, ...SESSION_DELIVERY_EFFECT_TYPES, ...MESSAGE_WAITING_EFFECT_TYPES],
    executor,
    runner,
    messageWaiting,
    fetches,
    account,
    deliverTo,
    accepts(req) {
      if (messageWaiting.accepts(req)) return true;
      const id = req.dialogId;
      if (id !== undefined) return fetches.live.has(FetchSessions.keyOf(id.callId, id.localTag)) || known(offlineSessionKey(id.callId, id.localTag));
      if (req.request.method !== 'INVITE') return false;
      if (isFetch(req)) return true;
      const callee = calleeOf(req.request, domains);
      if (callee === undefined) return false;
      if (marker !== '' && getHeader(req.request, marker) !== undefined) return true;
      return o.contacts.contactsOf(callee).length === 0;
    },
    handle(req) {
      const id = req.dialogId;
      const fetchKey = id === undefined ? undefined : FetchSessions.keyOf(id.callId, id.localTag);
      let work: Promise<void>;
      if (req.request.method === 'SUBSCRIBE') work = messageWaiting.handle(req);
      else if (fetchKey !== undefined && fetches.live.has(fetchKey)) work = fetches.inDialog(req, fetchKey);
      else if (id !== undefined) work = inDialog(req, offlineSessionKey(id.callId, id.localTag));
      else if (stopped) work = Promise.resolve(req.respond(503, 'Service Unavailable - stopping'));
      else if (isFetch(req)) work = Promise.resolve().then(() => fetches.invite(req));
      else work = onInvite(req);
      work.catch((err: unknown) => {
        if (err instanceof ProtocolError) return req.respond(err.status, err.message);
        log.error({ err, method: req.request.method }, 'offline: request handling failed');
        req.respond(500);
      });
    },
    execute: (effect, actor) => {
      if (effect.type.startsWith('delivery.')) runner.execute(effect, actor);
      else if (effect.type.startsWith('mwi.')) messageWaiting.execute(effect, actor);
      else executor.execute(effect, actor);
    },
    async stop() {
      stopped = true;
      unsubscribe?.();
      runner.stop();
      fetches.stop();
    },
  };
}
