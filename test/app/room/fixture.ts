/**
 * A whole Parley (startServer, default applications) on a SimulatedClock for the chat-room
 * tests, SIPp participants whose MSRP side is a test client (Parley's own MsrpEndpoint on the
 * system clock), and helpers to find what the room holds.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { SimulatedClock, systemClock } from '../../../src/clock.js';
import type { Config } from '../../../src/config.js';
import { loopbackConfig } from '../../helpers/config.js';
import { startServer, type Application, type Server, type ServerContext } from '../../../src/server.js';
import { defaultApplications } from '../../../src/app/index.js';
import type { RoomApplication } from '../../../src/app/room/application.js';
import type { ConferenceContext, Participant } from '../../../src/machines/conference.js';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import type { MsrpSession } from '../../../src/transport/msrp/session.js';
import { buildCpim, parseCpim, serializeCpim, type CpimMessage } from '../../../src/formats/cpim.js';
import { ProtocolError } from '../../../src/errors.js';
import { IMDN_NS, imdnHeaders, readImdn } from '../../../src/formats/imdn.js';
export { readImdn };
import { freePort, spawnSipp } from '../../helpers/sipp.js';

export const logger = pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' });
export const scenario = (name: string) => join(process.cwd(), 'test', 'sipp', name);
export const DOMAIN = 'conference.parley.example';
export const uriOf = (user: string) => `sip:${user}@example.com`;

export function testConfig(dataDir: string, extra: Partial<Config> = {}): Config {
  return loopbackConfig(dataDir, { conferenceDomains: [DOMAIN], ...extra });
}

export interface Parley {
  readonly server: Server;
  readonly room: RoomApplication;
  readonly sipPort: number;
}

export async function startParley(config: Config, clock: SimulatedClock, applications: (ctx: ServerContext) => Application[] = defaultApplications): Promise<Parley> {
  let apps: Application[] = [];
  const server = await startServer(config, { clock, logger, applications: (ctx) => (apps = applications(ctx)) });
  const room = apps.find((a) => a.name === 'room') as unknown as RoomApplication;
  return { server, room, sipPort: server.addresses.sip.udp as number };
}

/** Polls the event loop (not a protocol timer) until `pred` holds. */
export async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function roomContext(p: Parley, room: string): ConferenceContext | undefined {
  return p.server.supervisor.peek('room', room)?.context as ConferenceContext | undefined;
}

export function participantOf(p: Parley, room: string, user: string): Participant | undefined {
  const ctx = roomContext(p, room);
  return ctx && Object.values(ctx.participants).find((x) => x.uri === uriOf(user));
}

export interface SippRun {
  readonly code: number | null;
  readonly messages: string;
  readonly stderr: string;
}

/** One SIPp UAC call against Parley over UDP; resolves when SIPp exits. */
export function sipp(o: { scenario: string; port: number; keys: Record<string, string>; timeoutS?: number; uas?: boolean }): { done: Promise<SippRun>; kill(): void } {
  // UAS mode: SIPp listens on `port` and waits for the room's INVITE.
  const local = o.uas === true ? Promise.resolve(o.port) : freePort();
  let kill: (() => void) | undefined;
  const done = local.then((lp) => {
    const run = spawnSipp([
      ...(o.uas === true ? [] : [`127.0.0.1:${o.port}`]), '-sf', o.scenario, '-m', '1', '-t', 'u1', '-i', '127.0.0.1', '-p', String(lp), '-nostdin',
      '-timeout', `${o.timeoutS ?? 60}s`, '-timeout_error',
      ...Object.entries(o.keys).flatMap(([k, v]) => ['-key', k, v]),
    ]);
    kill = run.kill;
    return run.done.then((r) => ({ code: r.code, messages: r.messages, stderr: r.stderr + r.errors }));
  });
  return { done, kill: () => kill?.() };
}

export const describeRun = (r: SippRun) => `sipp exit ${r.code}\n${r.stderr.slice(-3000)}\n--- messages ---\n${r.messages.slice(-6000)}`;

/** A received relayed message, decoded. */
export interface Received {
  readonly cpim: CpimMessage;
  readonly text: string;
  readonly from: string;
  readonly nickname: string | undefined;
  readonly messageId: string;
}

/** The MSRP side of one test participant. */
export class ChatClient {
  readonly session: MsrpSession;
  readonly received: Received[] = [];
  /** When the first chunk of each message came (performance.now()), by Message-ID. */
  readonly firstChunkAt = new Map<string, number>();

  constructor(
    readonly endpoint: MsrpEndpoint,
    readonly user: string,
    /** False: never answer what the room relays (a participant too slow to keep up). */
    answer = true,
  ) {
    this.session = endpoint.createSession({ setup: 'active' });
    this.session.on('chunk', (c) => {
      if (!this.firstChunkAt.has(c.messageId)) this.firstChunkAt.set(c.messageId, performance.now());
    });
    this.session.on('message', (m) => {
      const c = parseCpim(m.body);
      if (answer) m.accept();
      if (c instanceof ProtocolError) return;
      this.received.push({ cpim: c, text: c.body.toString('utf8'), from: c.from?.uri ?? '', nickname: c.from?.displayName, messageId: m.messageId });
    });
  }

  get path(): string {
    return this.session.localUri;
  }

  /** Messages from participants (not the room's notices). */
  chat(room: string): Received[] {
    return this.received.filter((r) => r.from !== room);
  }

  notices(room: string): string[] {
    return this.received.filter((r) => r.from === room).map((r) => r.text);
  }

  /** Connects to the room's session of this participant (found in the room's state). */
  async connect(p: Parley, room: string, me = participantOf(p, room, this.user)): Promise<void> {
    const s = me && p.server.context.msrp.getSession(me.session as string);
    if (s === undefined) throw new Error(`${this.user} has no room session`);
    this.session.setRemote({ path: [s.localUri] });
    const r = await this.session.connect();
    if (r.status !== 200) throw new Error(`${this.user}: MSRP connect ${r.status}`);
  }

  say(text: string, o: { to?: string; from?: string; contentType?: string; room: string; imdnId?: string }): Promise<number> {
    const imdn = o.imdnId === undefined ? {} : { ns: { imdn: IMDN_NS }, extra: imdnHeaders(o.imdnId, ['positive-delivery']) };
    const cpim = buildCpim({ from: { uri: o.from ?? uriOf(this.user) }, to: [{ uri: o.to ?? o.room }], contentType: o.contentType ?? 'text/plain', body: text, dateTime: new Date().toISOString(), ...imdn });
    return this.session.send(serializeCpim(cpim), 'message/cpim').then((r) => r.status);
  }
}

export async function msrpClientEndpoint(): Promise<MsrpEndpoint> {
  const e = new MsrpEndpoint({ listen: { host: '127.0.0.1', port: 0 }, clock: systemClock(), logger });
  await e.start();
  return e;
}
