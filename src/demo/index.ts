/**
 * `parley --demo`: a scripted scenario driven over the real protocols against the running
 * server, so that a newcomer opening the visualizer sees charts move within seconds. The
 * demo's user agents are a second SIP stack (and MSRP endpoint) on 127.0.0.1 talking to
 * Parley through its sockets like any client would.
 */
import type { Logger } from 'pino';
import { createSipStack } from '../transport/sip/stack.js';
import type { Server } from '../server.js';
import { mailboxScenario, type ScenarioContext } from './mailboxScenario.js';

export interface Demo {
  stop(): Promise<void>;
}

type Scenario = (s: ScenarioContext, round: number) => Promise<void>;

const scenarios: ReadonlyArray<{ name: string; run: Scenario }> = [{ name: 'mailbox', run: mailboxScenario }];

export async function startDemo(server: Server, logger: Logger): Promise<Demo> {
  const log = logger.child({ component: 'demo' });
  const host = server.addresses.sip.host;
  const ua = await createSipStack({ host, port: 0, logger: log.child({ ua: 'demo' }) });
  // The demo UA is every user's phone: it accepts whatever Parley sends it.
  ua.onRequest((req) => req.respond(200));
  const stopper = new AbortController();
  const pause = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (stopper.signal.aborted) return reject(new Error('demo stopped'));
      const t = setTimeout(resolve, ms);
      stopper.signal.addEventListener('abort', () => (clearTimeout(t), reject(new Error('demo stopped'))), { once: true });
    });
  const ctx: ScenarioContext = {
    ua,
    parley: { host, port: server.addresses.sip.udp ?? 5060, transport: 'udp' },
    domain: server.context.config.domains[0] ?? 'parley.example',
    logger: log,
    pause,
  };
  const loops = scenarios.map(async ({ name, run }) => {
    for (let round = 1; !stopper.signal.aborted; round++) {
      try {
        await run(ctx, round);
        await pause(3000);
      } catch (err) {
        if (stopper.signal.aborted) return;
        log.warn({ err, scenario: name }, 'demo: scenario round failed; starting over');
        await pause(3000).catch(() => undefined);
      }
    }
  });
  log.info({ visualizer: `http://${server.addresses.http.host}:${server.addresses.http.port}/` }, 'demo running: open the visualizer');
  return {
    async stop() {
      stopper.abort();
      await Promise.all(loops);
      await ua.close();
    },
  };
}
