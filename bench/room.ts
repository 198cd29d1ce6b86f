/**
 * Chat-room benchmark (issue 5): a whole Parley in a child process (startServer, default
 * applications, system clock, LMDB in a temp dir), driven over loopback by this process as
 * the participants: a second SIP stack joins them (INVITE with an MSRP offer, 200, ACK) and
 * an MSRP endpoint carries their sessions.
 *
 *   npx tsx bench/room.ts [seconds=10]
 *
 * 1. One room of 100 participants; 100 messages/s arrive, round-robin over the senders, for
 *    `seconds`: deliveries per second, and latency from each SEND to its last (99th)
 *    delivery, p50/p99/max; also SEND -> MSRP 200 (committed to history).
 * 2. 1,000 rooms of 5 participants: server heap and RSS per room and per participant; then
 *    one message per room per second for `seconds` (1,000 msg/s, 4,000 deliveries/s).
 * Both processes share the machine's 2 cores with whatever else runs: figures are noisy;
 * the server CPU per delivery (process.cpuUsage of the child) is the steadier figure.
 * BENCH_ONLY_BIG=1 / BENCH_ONLY_SMALL=1 run one part; BENCH_PROF=dir profiles the server.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { systemClock } from '../src/clock.js';
import { loopbackConfig } from '../test/helpers/config.js';
import { buildMsrpOffer, parseMsrpOffer } from '../src/formats/sdp.js';
import { buildCpim, serializeCpim } from '../src/formats/cpim.js';
import { ProtocolError } from '../src/errors.js';
import { MsrpEndpoint } from '../src/transport/msrp/endpoint.js';
import type { MsrpSession } from '../src/transport/msrp/session.js';
import { createSipStack, type SipStack } from '../src/transport/sip/stack.js';
import { createUacDialog } from '../src/transport/sip/dialog.js';
import type { SipRequest } from '../src/transport/sip/message.js';

const logger = pino({ level: 'silent' });
const DOMAIN = 'conference.parley.example';

// ---- server side (child process) ---------------------------------------------------------

async function serve(dataDir: string): Promise<void> {
  const { startServer } = await import('../src/server.js');
  const config = loopbackConfig(dataDir, { conferenceDomains: [DOMAIN], maxResident: 1_000_000, idleMs: 3_600_000 });
  const server = await startServer(config, { logger });
  const send = (m: unknown) => process.send?.(m);
  // Event-loop delay of the server: high with low CPU use means the process waited for a core.
  const eld = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  process.on('message', (m: { type: string }) => {
    if (m.type === 'mem') {
      (globalThis as { gc?: () => void }).gc?.();
      const u = process.memoryUsage();
      const c = process.cpuUsage();
      send({ type: 'mem', heapUsed: u.heapUsed, rss: u.rss, sessions: server.context.msrp.sessionCount, cpuMs: (c.user + c.system) / 1000, eldP99: eld.percentile(99) / 1e6, eldMax: eld.max / 1e6 });
      eld.reset();
    } else if (m.type === 'stop') {
      void server.stop().then(() => process.exit(0));
    }
  });
  send({ type: 'ready', sip: server.addresses.sip.udp, tcp: server.addresses.sip.tcp });
}

// ---- client side -------------------------------------------------------------------------

interface Child {
  readonly proc: ChildProcess;
  readonly sipPort: number;
  ask<T>(type: string): Promise<T>;
}

async function startChild(dataDir: string): Promise<Child> {
  const proc = fork(fileURLToPath(import.meta.url), ['--server', dataDir], { execArgv: ['--import', 'tsx', '--expose-gc', '--max-semi-space-size=64', ...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ sip: number }>((resolve) => proc.once('message', (m) => resolve(m as { sip: number })));
  return {
    proc,
    sipPort: ready.sip,
    ask: <T>(type: string) =>
      new Promise<T>((resolve) => {
        proc.once('message', (m) => resolve(m as T));
        proc.send({ type });
      }),
  };
}

interface Member {
  readonly session: MsrpSession;
  readonly uri: string;
}

let seqCounter = 0;

/** Joins one participant: INVITE with an MSRP offer over the UA stack, ACK, MSRP connect. */
async function joinRoom(ua: SipStack, msrp: MsrpEndpoint, sipPort: number, room: string, user: string, onMessage: (body: Buffer) => void): Promise<Member> {
  const session = msrp.createSession({ setup: 'active' });
  session.on('message', (m) => {
    m.accept();
    onMessage(m.body);
  });
  const uri = `sip:${user}@example.com`;
  const sdp = buildMsrpOffer({ address: '127.0.0.1', port: 9, path: session.localUri, acceptTypes: ['message/cpim'], acceptWrappedTypes: ['*'], setup: 'actpass' });
  const n = ++seqCounter;
  const req: SipRequest = {
    kind: 'request',
    method: 'INVITE',
    uri: room,
    headers: [
      { name: 'from', value: `<${uri}>;tag=f${n}` },
      { name: 'to', value: `<${room}>` },
      { name: 'call-id', value: `bench-${n}-${process.pid}` },
      { name: 'cseq', value: '1 INVITE' },
      { name: 'contact', value: `<${ua.contactUri()}>` },
      { name: 'content-type', value: 'application/sdp' },
    ],
    body: Buffer.from(sdp),
  };
  const res = await ua.sendRequest(req, { destination: { host: '127.0.0.1', port: sipPort, transport: 'udp' } });
  if (res.status !== 200) throw new Error(`${user}: INVITE ${res.status}`);
  const answer = parseMsrpOffer(res.body.toString());
  if (answer instanceof ProtocolError) throw answer;
  ua.sendAck(createUacDialog(req, res), res);
  session.setRemote({ path: answer.path });
  const c = await session.connect();
  if (c.status !== 200) throw new Error(`${user}: MSRP connect ${c.status}`);
  return { session, uri };
}

function payload(room: string, from: string, seq: number): Buffer {
  return serializeCpim(buildCpim({ from: { uri: from }, to: [{ uri: room }], contentType: 'text/plain', body: `bench message #${seq}#` }));
}

/** The sequence number of a bench message (`#seq#` at the end of the body), or -1. */
function seqOf(body: Buffer): number {
  const s = body.toString('latin1', Math.max(0, body.length - 24));
  const m = /#(\d+)#$/.exec(s);
  return m ? Number(m[1]) : -1;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Load {
  sent: number;
  deliveries: number;
  complete: number;
  lat: number[];
  ackLat: number[];
  firstSend: number;
  lastDelivery: number;
}

async function runLoad(rooms: Array<{ room: string; members: Member[] }>, perSecond: number, seconds: number, track: Map<number, { at: number; left: number }>, load: Load): Promise<void> {
  const total = perSecond * seconds;
  const start = performance.now();
  load.firstSend = start;
  let k = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * perSecond) + 1);
      for (; k < due; k++) {
        const r = rooms[k % rooms.length];
        const sender = r.members[Math.floor(k / rooms.length) % r.members.length];
        const seq = k;
        const at = performance.now();
        track.set(seq, { at, left: r.members.length - 1 });
        load.sent++;
        void sender.session.send(payload(r.room, sender.uri, seq), 'message/cpim').then((res) => {
          if (res.status === 200) load.ackLat.push(performance.now() - at);
        });
      }
      if (k >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  // Wait for the tail of deliveries (bounded).
  const end = performance.now() + 10_000;
  while (load.complete < total && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
}

function onDelivery(track: Map<number, { at: number; left: number }>, load: Load) {
  return (body: Buffer) => {
    const seq = seqOf(body);
    if (seq < 0) return; // notices, history
    const t = track.get(seq);
    if (t === undefined) return;
    load.deliveries++;
    load.lastDelivery = performance.now();
    if (--t.left === 0) {
      load.complete++;
      load.lat.push(performance.now() - t.at);
      track.delete(seq);
    }
  };
}

function report(name: string, load: Load): void {
  const lat = [...load.lat].sort((a, b) => a - b);
  const ack = [...load.ackLat].sort((a, b) => a - b);
  const secs = (load.lastDelivery - load.firstSend) / 1000;
  console.log(
    `${name}: sent ${load.sent}, complete ${load.complete}, deliveries ${load.deliveries} (${Math.round(load.deliveries / secs)}/s)\n` +
      `  SEND -> last delivery ms: p50 ${pct(lat, 50).toFixed(1)}  p99 ${pct(lat, 99).toFixed(1)}  max ${lat.at(-1)?.toFixed(1)}\n` +
      `  SEND -> MSRP 200 (history committed) ms: p50 ${pct(ack, 50).toFixed(1)}  p99 ${pct(ack, 99).toFixed(1)}`,
  );
}

async function pool<T>(items: T[], width: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (i < items.length) await f(items[i++]);
  }));
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-room-'));
  const child = await startChild(dir);
  const ua = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock: systemClock() });
  const msrp = new MsrpEndpoint({ listen: { host: '127.0.0.1', port: 0 }, clock: systemClock(), logger, responseTimeoutMs: 60_000 });
  await msrp.start();
  try {
    type Mem = { heapUsed: number; rss: number; sessions: number; cpuMs: number; eldP99: number; eldMax: number };
    const m0 = await child.ask<Mem>('mem');

    // 1. One room of 100, 100 msg/s.
    const track = new Map<number, { at: number; left: number }>();
    const load: Load = { sent: 0, deliveries: 0, complete: 0, lat: [], ackLat: [], firstSend: 0, lastDelivery: 0 };
    const big = `sip:big@${DOMAIN}`;
    const members: Member[] = [];
    const t0 = performance.now();
    const onlySmall = process.env.BENCH_ONLY_SMALL !== undefined;
    for (let i = 0; i < (onlySmall ? 0 : 100); i++) members.push(await joinRoom(ua, msrp, child.sipPort, big, `u${i}`, onDelivery(track, load)));
    if (onlySmall) console.log('(1 room x 100 skipped: BENCH_ONLY_SMALL)');
    else {
    console.log(`joined 100 participants in ${(performance.now() - t0).toFixed(0)} ms`);
    await new Promise((r) => setTimeout(r, 500)); // join notices settle
    const m1 = await child.ask<Mem>('mem');
    // The client's own event loop: its 100 sessions take every delivery (9,900/s), so a late
    // delivery may be late here, not in the server.
    const celd = monitorEventLoopDelay({ resolution: 5 });
    celd.enable();
    await runLoad([{ room: big, members }], 100, seconds, track, load);
    celd.disable();
    const m1b = await child.ask<Mem>('mem');
    report(`1 room x 100 participants, 100 msg/s for ${seconds} s`, load);
    console.log(`  server CPU ${(m1b.cpuMs - m1.cpuMs).toFixed(0)} ms = ${(((m1b.cpuMs - m1.cpuMs) * 1000) / load.deliveries).toFixed(0)} us per delivery; client CPU ${(process.cpuUsage().user / 1000).toFixed(0)} ms so far`);
    console.log(`  server event-loop delay p99 ${m1b.eldP99.toFixed(1)} ms, max ${m1b.eldMax.toFixed(1)} ms; client ${(celd.percentile(99) / 1e6).toFixed(1)} / ${(celd.max / 1e6).toFixed(1)} ms; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    console.log(`  server heap per participant (100-room): ${((m1.heapUsed - m0.heapUsed) / 100 / 1024).toFixed(1)} KiB`);
    for (const m of members) m.session.close();
    await new Promise((r) => setTimeout(r, 1000));
    }
    if (process.env.BENCH_ONLY_BIG) return;

    // 2. 1,000 rooms of 5.
    const m2 = await child.ask<Mem>('mem');
    const track2 = new Map<number, { at: number; left: number }>();
    const load2: Load = { sent: 0, deliveries: 0, complete: 0, lat: [], ackLat: [], firstSend: 0, lastDelivery: 0 };
    const rooms: Array<{ room: string; members: Member[] }> = [];
    for (let r = 0; r < 1000; r++) rooms.push({ room: `sip:r${r}@${DOMAIN}`, members: [] });
    const t1 = performance.now();
    const joins = rooms.flatMap((r) => Array.from({ length: 5 }, (_, i) => ({ r, i })));
    await pool(joins, 16, async ({ r, i }) => {
      r.members.push(await joinRoom(ua, msrp, child.sipPort, r.room, `${r.room.slice(4, r.room.indexOf('@'))}p${i}`, onDelivery(track2, load2)));
    });
    console.log(`joined 5,000 participants in 1,000 rooms in ${(performance.now() - t1).toFixed(0)} ms`);
    await new Promise((r) => setTimeout(r, 1000));
    const m3 = await child.ask<Mem>('mem');
    const dHeap = m3.heapUsed - m2.heapUsed;
    const dRss = m3.rss - m2.rss;
    console.log(
      `1,000 rooms x 5: server heap +${(dHeap / 1048576).toFixed(1)} MiB (${(dHeap / 1000 / 1024).toFixed(1)} KiB per room, ${(dHeap / 5000 / 1024).toFixed(1)} KiB per participant incl. its MSRP session and TCP socket); RSS +${(dRss / 1048576).toFixed(1)} MiB; server MSRP sessions ${m3.sessions}`,
    );
    await runLoad(rooms, 1000, seconds, track2, load2);
    const m4 = await child.ask<Mem>('mem');
    report(`1,000 rooms x 5 participants, 1,000 msg/s for ${seconds} s`, load2);
    console.log(`  server CPU ${(m4.cpuMs - m3.cpuMs).toFixed(0)} ms = ${(((m4.cpuMs - m3.cpuMs) * 1000) / load2.deliveries).toFixed(0)} us per delivery (incl. the SEND, its commit and answer)`);
    console.log(`  server event-loop delay p99 ${m4.eldP99.toFixed(1)} ms, max ${m4.eldMax.toFixed(1)} ms; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  } finally {
    child.proc.send({ type: 'stop' });
    await new Promise((r) => child.proc.once('exit', r));
    await msrp.close();
    await ua.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--server') void serve(process.argv[3]);
else
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
