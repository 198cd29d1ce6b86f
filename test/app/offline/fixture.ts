/**
 * A whole Parley (startServer with the default applications) on a SimulatedClock for the
 * offline-session tests, with its applications captured for inspection, plus an MSRP test
 * client (Parley's own MsrpEndpoint, on the system clock) acting for the caller or the user.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { describeRun, runSipp, spawnSipp, type SippRun } from '../../helpers/sipp.js';
import assert from 'node:assert/strict';
import { SimulatedClock, systemClock } from '../../../src/clock.js';
import type { Config } from '../../../src/config.js';
import { loopbackConfig } from '../../helpers/config.js';
import { tempDir } from '../../helpers/runtime.js';
import { startServer, type Application, type Server } from '../../../src/server.js';
import { defaultApplications } from '../../../src/app/index.js';
import type { MailboxApplication } from '../../../src/app/mailbox/application.js';
import type { OfflineApplication } from '../../../src/app/offline/application.js';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import type { IncomingMessage, MsrpSession } from '../../../src/transport/msrp/session.js';
import { buildCpim, serializeCpim } from '../../../src/formats/cpim.js';
import { IMDN_NS, imdnHeaders } from '../../../src/formats/imdn.js';

export const logger = pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' });

export interface Parley {
  readonly server: Server;
  readonly mailbox: MailboxApplication;
  readonly offline: OfflineApplication;
  readonly sipPort: number;
}

export function testConfig(dataDir: string, extra: Partial<Config> = {}): Config {
  return loopbackConfig(dataDir, { domains: ['parley.example'], ...extra });
}

export async function startParley(config: Config, clock: SimulatedClock): Promise<Parley> {
  let apps: Application[] = [];
  const server = await startServer(config, {
    clock,
    logger,
    applications: (ctx) => (apps = defaultApplications(ctx)),
  });
  const mailbox = apps.find((a) => a.name === 'mailbox') as unknown as MailboxApplication;
  const offline = apps.find((a) => a.name === 'offline') as unknown as OfflineApplication;
  return { server, mailbox, offline, sipPort: server.addresses.sip.udp as number };
}

/**
 * Runs `fn` with a server on a temporary data directory (configured by `extra`), its simulated
 * clock and an MSRP client, then stops them and removes the directory, whatever `fn` did.
 */
export async function withParley(fn: (t: { parley: Parley; clock: SimulatedClock; client: MsrpClient }) => Promise<void>, extra: Partial<Config> = {}): Promise<void> {
  const dir = tempDir();
  const clock = new SimulatedClock();
  const parley = await startParley(testConfig(dir.path, extra), clock);
  const client = await new MsrpClient().start();
  try {
    await fn({ parley, clock, client });
  } finally {
    await client.close();
    await parley.server.stop();
    dir.remove();
  }
}

/** Polls the event loop (not a protocol timer) until `pred` holds. */
export async function until(pred: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An MSRP client: one endpoint, sessions that collect what they receive and accept it. */
export class MsrpClient {
  readonly endpoint = new MsrpEndpoint({ listen: { host: '127.0.0.1', port: 0 }, clock: systemClock(), logger });

  async start(): Promise<this> {
    await this.endpoint.start();
    return this;
  }

  session(setup: 'active' | 'passive'): { session: MsrpSession; received: IncomingMessage[] } {
    const session = this.endpoint.createSession({ setup });
    const received: IncomingMessage[] = [];
    session.on('message', (m) => {
      received.push(m);
      m.accept();
    });
    return { session, received };
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}

/** A CPIM chat message from `from` to `to` with an IMDN Message-ID (what a chat client writes). */
export function cpimText(from: string, to: string, text: string, imdnId: string): Buffer {
  const m = buildCpim({
    from: { uri: from, displayName: 'Alice' },
    to: [{ uri: to }],
    dateTime: new Date().toISOString(),
    ns: { imdn: IMDN_NS },
    extra: imdnHeaders(imdnId, ['positive-delivery']),
    contentType: 'text/plain;charset=utf-8',
    body: text,
  });
  return serializeCpim(m);
}

/** A SIPp instance on a known local port (UAS scenarios need it for the REGISTER contact). */
export function sippAt(args: { scenario: string; port: number; remote?: number; keys?: Record<string, string> }): Promise<SippRun> & { kill(): void } {
  const run = spawnSipp(
    [
      ...(args.remote !== undefined ? [`127.0.0.1:${args.remote}`] : []),
      '-sf', args.scenario, '-m', '1', '-t', 'u1', '-i', '127.0.0.1', '-p', String(args.port), '-nostdin',
      '-timeout', '20s', '-timeout_error',
      ...Object.entries(args.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    ],
    25_000,
  );
  return Object.assign(run.done, { kill: run.kill });
}

/** alice's offline session with `n` messages, ended by the grace window. Returns the storing time. */
export async function aliceWrites(parley: Parley, clock: SimulatedClock, client: MsrpClient, n: number): Promise<number> {
  const { session } = client.session('active');
  const sipp = runSipp({ scenario: join(process.cwd(), 'test', 'sipp', 'offline-caller.xml'), port: parley.sipPort, transport: 'u1', extra: ['-key', 'msrppath', session.localUri] });
  await until(() => parley.offline.executor.live.size === 1, 'the answered session');
  const [live] = [...parley.offline.executor.live.values()];
  session.setRemote({ path: [live.msrp.localUri] });
  assert.equal((await session.connect()).status, 200);
  const at = clock.now();
  for (let i = 1; i <= n; i++) assert.equal((await session.send(cpimText('sip:alice@example.com', 'sip:bob@parley.example', `message ${i}`, `imdn-${i}`), 'message/cpim')).status, 200);
  clock.advance(90_000);
  const run = await sipp;
  assert.equal(run.code, 0, describeRun(run));
  return at;
}
