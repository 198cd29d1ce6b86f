/**
 * Offline messaging beyond MESSAGE (issue 7, docs/offline.md), shaped as the server's
 * `Application` (src/server.ts) without importing it. It composes:
 * - offline chat sessions (`sessions.ts`, actor `offline`): an MSRP chat INVITE for a served
 *   user with no registered contact, or marked by the proxy's failure route with the configured
 *   header, answered on the user's behalf for the grace window;
 * - delivery by session (`deliveryRunner.ts`, actor `delivery`): on registration (or when a
 *   marked session ends while the user is reachable), one session per original caller;
 * - text message-waiting (`messageWaiting.ts`, actor `mwi`) and fetch (`fetch.ts`).
 *
 * Routing, in order: message-summary SUBSCRIBEs (and their refreshes); requests inside a fetch
 * or an offline session's dialog; INVITEs to the Message-Account (fetch); other INVITEs for
 * offline users. Answers: 200 with the SDP answer after the session's commit; 488 no usable
 * MSRP offer; 404 not a served user; 400 malformed; 486 too many sessions; 503 stopping; 500
 * when a commit failed.
 */
import type { Application } from '../../server.js';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import { offlineSessionKey, offlineSessionKind } from '../../actors/offlineSessionKind.js';
import { SESSION_DELIVERY_KIND, sessionDeliveryKey, sessionDeliveryKind } from '../../actors/sessionDeliveryKind.js';
import { messageWaitingKind } from '../../actors/messageWaitingKind.js';
import { messagePublicationKind } from '../../actors/messagePublicationKind.js';
import { MESSAGE_WAITING_EFFECT_TYPES } from '../../machines/messageWaiting.js';
import { MESSAGE_PUBLICATION_EFFECT_TYPES } from '../../machines/messagePublication.js';
import { MessageWaiting } from './messageWaiting.js';
import { FetchSessions } from './fetch.js';
import type { MailboxStore } from '../../actors/mailboxStore.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { IncomingRequest, SipEndpoint, SipTransport } from '../../transport/sip/transport.js';
import type { RegistrationEvent } from '../../transport/sip/registrar.js';
import type { RegisteredContact } from '../../transport/sip/registrationStore.js';
import { getHeader } from '../../transport/sip/headers.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import { OFFLINE_SESSION_EFFECT_TYPES } from '../../machines/offlineSessionEffects.js';
import { SESSION_DELIVERY_EFFECT_TYPES, sessionDeliveryEvents } from '../../machines/sessionDelivery.js';
import { DeliveryRunner, sessionMessages } from './deliveryRunner.js';
import type { StoreResponder } from '../mailbox/executor.js';
import { OfflineExecutor, type OfflineDispatcher } from './executor.js';
import { calleeOf, sameAddress } from './invite.js';
import { OfflineSessions } from './sessions.js';

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
  /** PUBLISH message-waiting to this presence server too (RFC 3903); off when undefined. */
  readonly publishTo?: SipEndpoint;
  readonly config?: Partial<OfflineConfig>;
}

export interface OfflineApplication extends Application {
  readonly name: 'offline';
  readonly executor: OfflineExecutor;
  readonly runner: DeliveryRunner;
  readonly messageWaiting: MessageWaiting;
  readonly fetches: FetchSessions;
  /** The Message-Account (fetch address). */
  readonly account: string;
  /** Starts one delivery per caller with session-written messages for `aor` (on registration). */
  deliverTo(aor: string): Promise<number>;
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
    ...(o.publishTo !== undefined ? { publish: { destination: o.publishTo, retryMs: cfg.deliveryRetryMs } } : {}),
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
  /** An INVITE to the Message-Account address (Request-URI, or To when a proxy rewrote it). */
  const isFetch = (req: IncomingRequest) => {
    const to = getHeader(req.request, 'to');
    const toUri = to === undefined ? undefined : parseNameAddr(to)?.uri;
    return [req.request.uri, toUri].some((u) => u !== undefined && sameAddress(u, account, domains));
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

  const sessions = new OfflineSessions({ msrp: o.msrp, clock: o.clock, trustAsserted: o.trustAsserted, dispatcher: o.dispatcher }, cfg, domains, executor, log);

  return {
    name: 'offline',
    kinds: [offlineSessionKind(), sessionDeliveryKind(), messageWaitingKind(() => o.sip.contactUri()), messagePublicationKind()],
    effectTypes: [...OFFLINE_SESSION_EFFECT_TYPES, ...SESSION_DELIVERY_EFFECT_TYPES, ...MESSAGE_WAITING_EFFECT_TYPES, ...MESSAGE_PUBLICATION_EFFECT_TYPES],
    executor,
    runner,
    messageWaiting,
    fetches,
    account,
    deliverTo,
    accepts(req) {
      if (messageWaiting.accepts(req)) return true;
      const id = req.dialogId;
      if (id !== undefined) return fetches.live.has(FetchSessions.keyOf(id.callId, id.localTag)) || sessions.known(offlineSessionKey(id.callId, id.localTag));
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
      else if (id !== undefined) work = sessions.inDialog(req, offlineSessionKey(id.callId, id.localTag));
      else if (stopped) work = Promise.resolve(req.respond(503, 'Service Unavailable - stopping'));
      else if (isFetch(req)) work = Promise.resolve().then(() => fetches.invite(req));
      else work = sessions.invite(req);
      work.catch((err: unknown) => {
        if (err instanceof ProtocolError) return req.respond(err.status, err.message);
        log.error({ err, method: req.request.method }, 'offline: request handling failed');
        req.respond(500);
      });
    },
    execute: (effect, actor) => {
      if (effect.type.startsWith('delivery.')) runner.execute(effect, actor);
      else if (effect.type.startsWith('mwi.') || effect.type.startsWith('mwipub.')) messageWaiting.execute(effect, actor);
      else executor.execute(effect, actor);
    },
    async stop() {
      stopped = true;
      sessions.stopped = true;
      unsubscribe?.();
      runner.stop();
      fetches.stop();
      messageWaiting.stop();
    },
  };
}
