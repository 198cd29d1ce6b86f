/**
 * The applications a default Parley runs, in the order the server offers them each request.
 * New applications (chat rooms, offline sessions, the XMPP bridge) are added here.
 */
import type { Application, ServerContext } from '../server.js';
import { createMailboxApplication } from './mailbox/application.js';
import { mailboxAdminRoutes } from './admin/mailboxRoutes.js';

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
    },
    delivery: { addDate: config.mailboxAddDate },
    ...(config.mailboxNotifyFrom !== '' ? { notify: { from: config.mailboxNotifyFrom } } : {}),
  });
  // Admin routes read the supervisor per request: it is built after the applications.
  ctx.http.addRoutes(...mailboxAdminRoutes(() => ({ supervisor: ctx.supervisor, store: mailbox.mailboxStore, clock: ctx.clock })));
  return [mailbox];
}
