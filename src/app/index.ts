/**
 * The applications a default Parley runs, in the order the server offers them each request.
 * New applications (chat rooms, offline sessions, the XMPP bridge) are added here.
 */
import type { Application, ServerContext } from '../server.js';
import { createMailboxApplication } from './mailbox/application.js';
import { mailboxAdminRoutes } from './admin/mailboxRoutes.js';
import { createOfflineApplication } from './offline/application.js';
import { ConfigError } from '../config.js';
import type { SipEndpoint } from '../transport/sip/transport.js';
import { parseUri } from '../transport/sip/uri.js';
import { configuredRoomPolicy, createRoomApplication } from './room/application.js';

/** `sip:host[:port][;transport=tcp]` of the presence server that takes message-waiting PUBLISHes. */
function publishDestination(text: string): SipEndpoint {
  const u = parseUri(text);
  if (u === undefined || u.scheme === 'tel' || u.host === '') throw new ConfigError('messageWaitingPublishTo', text, 'expected sip:host[:port][;transport=tcp]');
  const t = u.params.transport?.toLowerCase();
  return { host: u.host.replace(/^\[|\]$/g, ''), port: u.port ?? 5060, transport: t === 'tcp' ? 'tcp' : 'udp' };
}

export function defaultApplications(ctx: ServerContext): Application[] {
  const { config } = ctx;
  const mailbox = createMailboxApplication({
    store: ctx.store,
    sip: ctx.sip,
    clock: ctx.clock,
    logger: ctx.logger,
    domains: config.domains,
    contacts: { contactsOf: (aor) => ctx.registrar.lookup(aor) },
    registrationEvents: ctx.registrar.events,
    dispatcher: () => ctx.supervisor,
    config: {
      maxMessages: config.mailboxMaxMessages,
      checkTimeMs: config.mailboxCheckTime * 1000,
      cleanPeriod: config.mailboxCleanPeriod,
      expireTimeMs: config.mailboxExpireTime * 1000,
      // Message-waiting PUBLISHed to a presence server needs every change, subscribers or not.
      reportChanges: config.messageWaitingPublishTo !== '',
    },
    delivery: { addDate: config.mailboxAddDate },
    ...(config.mailboxNotifyFrom !== '' ? { notify: { from: config.mailboxNotifyFrom } } : {}),
  });
  // Admin routes read the supervisor per request: it is built after the applications.
  ctx.http.addRoutes(...mailboxAdminRoutes(() => ({ supervisor: ctx.supervisor, store: mailbox.mailboxStore, clock: ctx.clock }), { boundHost: config.httpListen.host }));
  // Offline chat sessions take INVITEs for served users without a contact (or marked by the
  // proxy): keep them after the chat rooms, which take INVITEs to room URIs.
  const offline = createOfflineApplication({
    sip: ctx.sip,
    msrp: ctx.msrp,
    clock: ctx.clock,
    logger: ctx.logger,
    domains: config.domains,
    contacts: { contactsOf: (aor) => ctx.registrar.lookup(aor) },
    registrationEvents: ctx.registrar.events,
    mailboxStore: mailbox.mailboxStore,
    dispatcher: () => ctx.supervisor,
    mailboxPending: mailbox.executor.pending,
    trustAsserted: config.trustedPeers.length > 0,
    account: config.messageAccount,
    ...(config.messageWaitingPublishTo !== '' ? { publishTo: publishDestination(config.messageWaitingPublishTo) } : {}),
    config: {
      graceMs: config.offlineGraceTime * 1000,
      greeting: config.offlineGreeting,
      greetings: config.offlineGreetings,
      markerHeader: config.offlineMarkerHeader,
      maxMessages: config.offlineMaxMessages,
      deliveryRetryMs: config.mailboxCheckTime * 1000,
    },
  });
  // Message-waiting NOTIFYs follow the mailbox's changes.
  mailbox.executor.onChanged = (aor) => offline.messageWaiting.changed(aor);
  // Rooms are users of the conference domains (or requests with X-Parley-App: conference).
  const room = createRoomApplication({
    store: ctx.store,
    sip: ctx.sip,
    msrp: ctx.msrp,
    clock: ctx.clock,
    logger: ctx.logger,
    domains: config.conferenceDomains,
    dispatcher: () => ctx.supervisor,
    ackTimeoutMs: config.roomAckTimeoutMs,
    historySize: config.roomHistorySize,
    trustAsserted: config.trustedPeers.length > 0,
    defaultPolicy: configuredRoomPolicy(config),
  });
  return [mailbox, room, offline];
}
