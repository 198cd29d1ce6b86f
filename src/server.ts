/**
 * Assembles one Parley server from its configuration: the LMDB store, the supervisor and its
 * actor kinds, the SIP stack with its registrar, the MSRP endpoint, the HTTP server with the
 * visualizer and the applications' admin routes; binds every listener,
 * logs the addresses it bound, and stops in order (stop taking traffic, finish the events in
 * flight, commit, close LMDB).
 */
import { mkdirSync } from 'node:fs';
import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { ActorKind } from './actors/kind.js';
import type { Effect, EffectHandlers, ActorRef } from './actors/effects.js';
import { Store, type Write } from './actors/store.js';
import { Supervisor } from './actors/supervisor.js';
import { ROOM_KIND, roomKind } from './actors/roomKind.js';
import { createSipStack, type SipStack } from './transport/sip/stack.js';
import { optionsHeaders } from './transport/sip/methods.js';
import type { IncomingRequest } from './transport/sip/transport.js';
import { Registrar, RegistrationEvents } from './transport/sip/registrar.js';
import { RegistrationStore } from './transport/sip/registrationStore.js';
import { MsrpEndpoint } from './transport/msrp/endpoint.js';
import { createHttpServer, type HttpServer } from './transport/http/server.js';
import { visualizerRoutes } from './transport/http/visualizerRoutes.js';
import { ActorIndex } from './actors/actorIndex.js';
import { defaultApplications } from './app/index.js';
import { roomAdminRoutes } from './app/admin/roomRoutes.js';
import { configuredRoomPolicy } from './app/room/application.js';

/**
 * A part of Parley that serves some SIP requests (chat rooms, mailboxes, offline sessions)
 * and performs the effects of its actors. The server offers each request to the
 * applications in order; the first whose `accepts` says yes handles it.
 */
export interface Application {
  readonly name: string;
  readonly kinds: readonly ActorKind[];
  accepts(request: IncomingRequest): boolean;
  handle(request: IncomingRequest): void;
  /** Effect types this application performs (`sip.acceptJoin`, `mailbox.deliver`...). */
  readonly effectTypes: readonly string[];
  execute(effect: Effect, actor: ActorRef): void;
  storeWrites?(effect: Effect, actor: ActorRef): readonly Write[];
  /** Called once the supervisor runs (e.g. to settle actors persisted by an earlier process). */
  start?(): void | Promise<void>;
  stop?(): Promise<void>;
}

/** What every application gets to build itself. */
export interface ServerContext {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: Store;
  readonly sip: SipStack;
  readonly msrp: MsrpEndpoint;
  readonly registrar: Registrar;
  /** Applications add their admin routes here (`http.addRoutes`). */
  readonly http: HttpServer;
  /** Set once the supervisor exists (applications dispatch through it). */
  supervisor: Supervisor;
}

export interface Server {
  readonly context: ServerContext;
  readonly supervisor: Supervisor;
  /** Bound addresses (port 0 in the configuration resolved). */
  readonly addresses: { sip: { host: string; udp?: number; tcp?: number }; msrp: { host: string; port: number }; http: { host: string; port: number } };
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly logger: Logger;
  /** Builds the applications once the transports exist; default `defaultApplications`. */
  readonly applications?: (ctx: ServerContext) => Application[];
}

export async function startServer(config: Config, opts: StartOptions): Promise<Server> {
  const clock = opts.clock ?? systemClock();
  const logger = opts.logger;
  mkdirSync(config.dataDir, { recursive: true });
  const store = new Store({ path: config.dataDir });
  const registrationEvents = new RegistrationEvents(logger);
  const registrar = new Registrar({
    store: new RegistrationStore(store.openDB('registrations')),
    clock,
    logger: logger.child({ component: 'registrar' }),
    events: registrationEvents,
  });
  const sip = await createSipStack({
    host: config.sipListen.host,
    port: config.sipListen.port,
    logger,
    clock,
    trustedPeers: config.trustedPeers,
    registrar,
    // OPTIONS reach the applications: a room answers with its focus Contact (RFC 4579 5.2).
    answerOptions: false,
  });
  const msrp = new MsrpEndpoint({ listen: config.msrpListen, clock, logger: logger.child({ component: 'msrp' }) });
  const msrpAddress = await msrp.start();

  const http = await createHttpServer({ listen: config.httpListen, logger });

  const ctx = { config, clock, logger, store, sip, msrp, registrar, http } as ServerContext;
  const apps = (opts.applications ?? defaultApplications)(ctx);
  const byEffect = new Map<string, Application>();
  for (const app of apps) for (const t of app.effectTypes) byEffect.set(t, app);
  const effects: EffectHandlers = {
    storeWrites(effect, actor) {
      const app = byEffect.get(effect.type);
      if (app?.storeWrites === undefined) throw new Error(`no application stores ${effect.type}`);
      return app.storeWrites(effect, actor);
    },
    execute(effect, actor) {
      const app = byEffect.get(effect.type);
      if (app === undefined) actor.logger.warn({ effect: effect.type }, 'no application performs this effect');
      else app.execute(effect, actor);
    },
  };
  const kinds = apps.flatMap((a) => a.kinds);
  if (!kinds.some((k) => k.name === ROOM_KIND)) kinds.push(roomKind());
  const supervisor = new Supervisor({ store, clock, logger, kinds, effects, idleMs: config.idleMs, maxResident: config.maxResident });
  ctx.supervisor = supervisor;
  supervisor.start();
  registrar.start();
  for (const app of apps) {
    Promise.resolve(app.start?.()).catch((err: unknown) => logger.error({ err, application: app.name }, 'application start failed'));
  }
  const index = new ActorIndex(supervisor.inspection);
  http.addRoutes(...visualizerRoutes({ supervisor, kinds, index, clock }));
  // Here rather than in an application: the room kind exists whichever applications run.
  const roomAdmin = { supervisor, defaultPolicy: configuredRoomPolicy(config) };
  http.addRoutes(...roomAdminRoutes(() => roomAdmin, { boundHost: config.httpListen.host }));

  sip.onRequest((req) => {
    const app = apps.find((a) => a.accepts(req));
    if (app) app.handle(req);
    // What the stack answers itself when it keeps OPTIONS (RFC 3261 11.2).
    else if (req.request.method === 'OPTIONS' && req.dialogId === undefined) req.respond(200, undefined, { headers: optionsHeaders() });
    else req.respond(404, 'Not Found - no room, mailbox or service at this address');
  });

  const addresses = {
    sip: { host: config.sipListen.host, udp: sip.ports.udp, tcp: sip.ports.tcp },
    msrp: msrpAddress,
    http: http.address,
  };
  logger.info({ sip: addresses.sip, msrp: addresses.msrp, http: http.url, dataDir: config.dataDir, applications: apps.map((a) => a.name) }, 'parley listening');

  let stopping: Promise<void> | undefined;
  return {
    context: ctx,
    supervisor,
    addresses,
    stop() {
      stopping ??= (async () => {
        await sip.close(); // stop accepting first
        await http.close();
        index.close();
        await Promise.all(apps.map((a) => a.stop?.()));
        await supervisor.stop(); // the events in flight commit
        registrar.close();
        await msrp.close();
        await store.close();
        logger.info('parley stopped');
      })();
      return stopping;
    },
  };
}
