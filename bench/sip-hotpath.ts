/**
 * Micro-benchmark of the SIP stack's per-MESSAGE hot path without sockets: datagram bytes ->
 * parse -> server transaction -> application answers 200 -> response serialized -> "sent"
 * (the UDP send / TCP write is replaced by a counter). The same MESSAGE as SIPp's
 * `test/sipp/message.xml` (rport, new branch and Call-ID per request).
 *
 *   npx tsx bench/sip-hotpath.ts [mode=udp,tcp,parse] [requests per round=100000] [rounds=5]
 *
 * Modes: `udp` (through the stack's receive path as a datagram; Completed entries kept for
 * timer J as in production), `tcp` (as a message framed on a connection: no Completed state),
 * `parse` (parseMessage alone). Prints ns per request and CPU µs per request (process CPU,
 * GC threads included) per round, both measured around the stack's receive calls only (the
 * request bytes are built outside); the first round warms up the JIT. Requests are handed over
 * in batches of 64 with a macrotask in between, as the event loop delivers socket reads, so
 * timers run as they would.
 */
import pino from 'pino';
import { createSipStack } from '../src/transport/sip/stack.js';
import { parseMessage } from '../src/transport/sip/parser.js';
import type { SipConnection } from '../src/transport/sip/tcp.js';

const modes = (process.argv[2] ?? 'udp,tcp,parse').split(',');
const perRound = Number(process.argv[3] ?? 100_000);
const rounds = Number(process.argv[4] ?? 5);
const logger = pino({ level: 'warn' });
const BATCH = 64;

function request(n: number, transport: 'UDP' | 'TCP'): Buffer {
  const body = `Hello from SIPp ${n}\r\n`;
  return Buffer.from(
    `MESSAGE sip:bob@127.0.0.1:5060 SIP/2.0\r\n` +
      `Via: SIP/2.0/${transport} 127.0.0.1:5999;branch=z9hG4bK-${process.pid}-${n}-0;rport\r\n` +
      `From: <sip:alice@127.0.0.1:5999>;tag=${process.pid}SIPpTag00${n}\r\n` +
      `To: <sip:bob@127.0.0.1:5060>\r\n` +
      `Call-ID: ${n}-${process.pid}@127.0.0.1\r\n` +
      `CSeq: 1 MESSAGE\r\n` +
      `Max-Forwards: 70\r\n` +
      `Content-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const tick = () => new Promise<void>((r) => setImmediate(r));

async function runStack(mode: 'udp' | 'tcp', round: number): Promise<{ ns: number; cpu: number; bytes: number }> {
  const stack = await createSipStack({ host: '127.0.0.1', port: 0, logger });
  stack.onRequest((r) => (r.request.method === 'MESSAGE' ? r.respond(200) : r.respond(405)));
  let bytes = 0;
  let sent = 0;
  const internals = stack as unknown as {
    udp: { send(data: Buffer, host: string, port: number): void };
    receive(data: Buffer, source: { host: string; port: number; transport: 'udp' | 'tcp' }, conn: SipConnection | undefined): void;
  };
  internals.udp.send = (data) => {
    bytes += data.length;
    sent++;
  };
  const conn: SipConnection = {
    id: 1, transport: 'tcp', remoteHost: '127.0.0.1', remotePort: 5999, closed: false,
    write: (data) => {
      bytes += data.length;
      sent++;
    },
    close() {},
  };
  const source = { host: '127.0.0.1', port: 5999, transport: mode };
  const base = round * perRound;
  const via = mode === 'udp' ? 'UDP' : 'TCP';
  const batch: Buffer[] = [];
  await tick();
  let elapsed = 0n;
  let cpu = 0;
  for (let i = 0; i < perRound; i += BATCH) {
    const end = Math.min(perRound, i + BATCH);
    // Built outside the timed section: a socket hands over fresh Buffers at no cost to the stack.
    batch.length = 0;
    for (let j = i; j < end; j++) batch.push(request(base + j, via));
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const b of batch) internals.receive(b, source, mode === 'udp' ? undefined : conn);
    elapsed += process.hrtime.bigint() - t0;
    const c1 = process.cpuUsage(c0);
    cpu += c1.user + c1.system;
    await tick();
  }
  const ns = Number(elapsed) / perRound;
  const c = { user: cpu, system: 0 };
  if (sent !== perRound) throw new Error(`sent ${sent} responses for ${perRound} requests`);
  await stack.close();
  return { ns, cpu: (c.user + c.system) / perRound, bytes: bytes / perRound };
}

async function runParse(round: number): Promise<{ ns: number; cpu: number; bytes: number }> {
  const reqs: Buffer[] = [];
  for (let i = 0; i < perRound; i++) reqs.push(request(round * perRound + i, 'UDP'));
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < perRound; i++) if (parseMessage(reqs[i]).ok) ok++;
  const ns = Number(process.hrtime.bigint() - t0) / perRound;
  const c = process.cpuUsage(cpu0);
  if (ok !== perRound) throw new Error('parse failed');
  return { ns, cpu: (c.user + c.system) / perRound, bytes: 0 };
}

for (const mode of modes) {
  const out: string[] = [];
  for (let r = 0; r < rounds; r++) {
    const res = mode === 'parse' ? await runParse(r) : await runStack(mode as 'udp' | 'tcp', r);
    out.push(`${res.ns.toFixed(0)} ns (${res.cpu.toFixed(1)} µs CPU)`);
  }
  console.log(`${mode.padEnd(5)} per request, round 1 (warm-up) .. ${rounds}: ${out.join(', ')}`);
}
