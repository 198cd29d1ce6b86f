/**
 * `parley --demo`: scripted scenarios driven over the real protocols against the running
 * server, so that a newcomer opening the visualizer sees charts move within seconds. The
 * demo's user agents are a second SIP stack and MSRP endpoint on the loopback address talking
 * to Parley through its sockets like any client would; static rooms are provisioned through
 * the admin API over HTTP.
 */
import type { Logger } from 'pino';
import { adminBaseUrl, AdminClient } from '../cli/adminClient.js';
import { MsrpEndpoint } from '../transport/msrp/endpoint.js';
import { createSipStack } from '../transport/sip/stack.js';
import type { Server } from '../server.js';
import { CallRouter, type ScenarioContext } from './context.js';
import { mailboxScenario } from './mailboxScenario.js';
import { adhocRoomScenario, roomScenario } from './roomScenario.js';

export interface Demo {
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** Multiplies every scripted pause (tests run the script faster); default 1. */
  readonly pace?: number;
  /** Names of the scenarios to run; default all. */
  readonly scenarios?: readonly string[];
  /** Pause between two rounds of a scenario (ms, before `pace`); default 3000. */
  readonly roundGapMs?: number;
  /** Told after each round of a scenario (tests). */
  readonly onRound?: (scenario: string, round: number, error?: unknown) => void;
}

/** `0.0.0.0` -> `127.0.0.1`, `::` -> `::1`; any other address as it is. */
function loopback(host: string): string {
  return host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

type Scenario = (s: ScenarioContext, round: number) => Promise<void>;

export const scenarios: ReadonlyArray<{ name: string; run: Scenario }> = [
  { name: 'room', run: roomScenario },
  { name: 'adhoc-room', run: adhocRoomScenario },
  { name: 'mailbox', run: mailboxScenario },
];

export async function startDemo(server: Server, logger: Logger, opts: DemoOptions = {}): Promise<Demo> {
  const log = logger.child({ component: 'demo' });
  const config = server.context.config;
  // The demo's phones live on the loopback address; a wildcard bind is reached there too.
  const host = loopback(server.addresses.sip.host);
  const pace = opts.pace ?? 1;
  const ua = await createSipStack({ host, port: 0, logger: log.child({ ua: 'demo' }) });
  const calls = new CallRouter();
  // The demo UA is every user's phone: calls go to their participant, the rest is answered 200.
  ua.onRequest((req) => calls.handle(req));
  const msrp = new MsrpEndpoint({ listen: { host: loopback(server.addresses.msrp.host), port: 0 }, logger: log.child({ msrp: 'demo' }) });
  await msrp.start();
  const stopper = new AbortController();
  const stopped = () => new Error('demo stopped');
  const pauseReal = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (stopper.signal.aborted) return reject(stopped());
      const onAbort = () => (clearTimeout(t), reject(stopped()));
      const t = setTimeout(() => (stopper.signal.removeEventListener('abort', onAbort), resolve()), ms);
      stopper.signal.addEventListener('abort', onAbort, { once: true });
    });
  const ctx: ScenarioContext = {
    ua,
    msrp,
    calls,
    admin: new AdminClient(adminBaseUrl(server.addresses.http)),
    parley: { host, port: server.addresses.sip.udp ?? 5060, transport: 'udp' },
    domain: config.domains[0] ?? 'parley.example',
    conferenceDomain: config.conferenceDomains[0] ?? config.domains[0] ?? 'conference.parley.example',
    ackTimeoutMs: config.roomAckTimeoutMs,
    logger: log,
    pause: (ms) => pauseReal(ms * pace),
    within: <T>(p: Promise<T>, ms: number, what: string) =>
      new Promise<T>((resolve, reject) => {
        if (stopper.signal.aborted) return reject(stopped());
        const done = () => (clearTimeout(t), stopper.signal.removeEventListener('abort', onAbort));
        const onAbort = () => (done(), reject(stopped()));
        const t = setTimeout(() => (done(), reject(new Error(`demo: timed out waiting for ${what}`))), ms);
        stopper.signal.addEventListener('abort', onAbort, { once: true });
        p.then(
          (v) => (done(), resolve(v)),
          (err: unknown) => (done(), reject(err)),
        );
      }),
  };
  const chosen = scenarios.filter((s) => opts.scenarios === undefined || opts.scenarios.includes(s.name));
  const loops = chosen.map(async ({ name, run }) => {
    for (let round = 1; !stopper.signal.aborted; round++) {
      try {
        await run(ctx, round);
        opts.onRound?.(name, round);
        await ctx.pause(opts.roundGapMs ?? 3000);
      } catch (err) {
        if (stopper.signal.aborted) return;
        log.warn({ err, scenario: name }, 'demo: scenario round failed; starting over');
        opts.onRound?.(name, round, err);
        await ctx.pause(opts.roundGapMs ?? 3000).catch(() => undefined);
      }
    }
  });
  log.info({ visualizer: `${adminBaseUrl(server.addresses.http)}/`, scenarios: chosen.map((s) => s.name) }, 'demo running: open the visualizer');
  return {
    async stop() {
      stopper.abort();
      await Promise.all(loops);
      await msrp.close();
      await ua.close();
    },
  };
}
