/**
 * Benchmark: MESSAGE transactions answered per second by the embedded SIP stack.
 * A MESSAGE-answering app (200 OK, nothing else) runs in this process; SIPp
 * (`test/sipp/message.xml`) is the UAC, at each offered rate, over UDP then TCP. Each run gets
 * a fresh stack (so that one run's Completed transactions, kept 32 s by timer J on UDP, do not
 * weigh on the next).
 *
 *   npx tsx bench/sip-message.ts [rates=5000,10000,13000,16000] [seconds=5] [transports=udp,tcp]
 *
 *   npx tsx --expose-gc bench/sip-message.ts --table [rate=10000] [seconds=60]
 *
 * Environment: SIP_BENCH_MAX_TX overrides the stack's `maxTransactions` (default: the stack's
 * own default); SIP_BENCH_NR=1 passes `-nr` (no SIPp retransmissions).
 *
 * Prints, per run: offered rate, transactions answered 200 per second (SIPp's successful calls
 * / wall time), SIPp's failed calls (a 503 counts as failed: SIPp expects 200), the 503s for
 * a full transaction table, the kernel's UDP receive-buffer drops on Parley's and on SIPp's
 * socket (Linux, /proc/net/udp; the stack's own reading lags by up to 5 s), the peak
 * transaction table size and heap, and this process's CPU use (process.cpuUsage over the run,
 * as a share of one core). With `--expose-gc` it also prints the heap per live transaction
 * (UDP: nearly all are Completed entries waiting for timer J).
 *
 * It cannot hang: SIPp retransmits over UDP like a real UA (so a datagram the kernel dropped
 * ends as a late 200 or a failed call, never as a call that waits for ever), runs with a
 * global `-timeout` and `-timeout_error`, and is killed (SIGKILL) if still alive after that.
 * (The earlier version passed `-nr` without `-timeout_error`: at 13k/s offered the kernel
 * dropped datagrams on Parley's full receive buffer, the calls whose MESSAGE was lost waited
 * for their 200 for ever, and SIPp's `-timeout` alone does not end a run.)
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { SimulatedClock } from '../src/clock.js';
import { createSipStack, type SipStack } from '../src/transport/sip/stack.js';
import { freePort } from '../test/helpers/sipp.js';

const rates = (process.argv[2] ?? '5000,10000,13000,16000').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 5);
const transports = (process.argv[4] ?? 'udp,tcp').split(',').map((t) => (t === 'tcp' ? 't1' : 'u1'));
const maxTransactions = process.env.SIP_BENCH_MAX_TX ? Number(process.env.SIP_BENCH_MAX_TX) : undefined;
const scenario = join(process.cwd(), 'test', 'sipp', 'message.xml');
const logger = pino({ level: process.env.SIP_BENCH_LOG ?? 'warn' });

/** Kernel drops on the UDP socket bound to `port` (the last column of /proc/net/udp); NaN elsewhere. */
function udpDrops(port: number): number {
  try {
    const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(hex)) return Number(cols[cols.length - 1]);
    }
  } catch {
    // not Linux
  }
  return NaN;
}

async function run(transport: 'u1' | 't1', rate: number): Promise<void> {
  const stack: SipStack = await createSipStack({ host: '127.0.0.1', port: 0, logger, maxTransactions});
  let answered = 0;
  stack.onRequest((r) => {
    if (r.request.method === 'MESSAGE') {
      answered++;
      r.respond(200);
    } else r.respond(405);
  });
  const calls = rate * seconds;
  const local = await freePort();
  const limit = seconds + 30;
  const args = [
    `127.0.0.1:${stack.ports.udp}`, '-sf', scenario, '-t', transport, '-i', '127.0.0.1', '-p', String(local),
    '-r', String(rate), '-m', String(calls), '-l', String(Math.max(1000, rate * 2)),
    '-timeout', `${limit}s`, '-timeout_error', '-nostdin', '-buff_size', String(4 * 1024 * 1024),
    ...(process.env.SIP_BENCH_NR === '1' ? ['-nr'] : []),
  ];
  let peakTx = 0;
  let peakHeap = 0;
  let sippDrops = 0;
  const sampler = setInterval(() => {
    sippDrops = Math.max(sippDrops, udpDrops(local) - sippDrops0 || 0);
    peakTx = Math.max(peakTx, stack.stats.server);
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 100);
  const drops0 = udpDrops(stack.ports.udp!);
  const sippDrops0 = udpDrops(local);
  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const child = spawn('/usr/bin/sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d.toString()).slice(-20000)));
  child.stderr.on('data', (d) => (out = (out + d.toString()).slice(-20000)));
  const killer = setTimeout(() => child.kill('SIGKILL'), (limit + 15) * 1000);
  const code = await new Promise<number | null>((r) => child.on('close', r));
  clearTimeout(killer);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  // With --expose-gc: live heap per transaction still in the table (UDP: Completed, timer J).
  const gc = (globalThis as { gc?: () => void }).gc;
  let perTx = '';
  if (gc && stack.stats.server > 0) {
    gc();
    perTx = `, ${((process.memoryUsage().heapUsed - heap0) / stack.stats.server).toFixed(0)} B heap per live transaction (${stack.stats.server})`;
  }
  const last = (label: string) => {
    const m = [...out.matchAll(new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, 'g'))].pop();
    return m ? Number(m[1]) : NaN;
  };
  const ok = last('Successful call');
  const failed = last('Failed call');
  const cpuShare = (cpu.user + cpu.system) / 1e6 / wall;
  const s = stack.stats;
  console.log(
    `${transport === 'u1' ? 'UDP' : 'TCP'} offered ${String(rate).padStart(6)}/s x ${calls}: ` +
      `answered ${(ok / wall).toFixed(0).padStart(6)} tx/s (${ok} ok, ${failed} failed, app saw ${answered}, ` +
      `503 table full ${s.rejectedFull}, kernel drops ${udpDrops(stack.ports.udp!) - drops0} at Parley (stack saw ${s.udpDrops}), ${sippDrops} at SIPp), ` +
      `peak table ${peakTx}, peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB, ` +
      `wall ${wall.toFixed(2)} s, Parley CPU ${(cpuShare * 100).toFixed(0)}% of one core ` +
      `(${(((cpu.user + cpu.system) / Math.max(1, ok))).toFixed(0)} µs per 200), sipp exit ${code}${perTx}`,
  );
  await stack.close();
}

/**
 * `--table RATE SECONDS`: the transaction table under a sustained RATE of new MESSAGEs over UDP
 * for SECONDS of simulated time (SimulatedClock; datagrams handed straight to the stack's
 * receive path, responses not sent), so that the figure depends on the timers only, not on
 * whether this machine has the CPU for RATE. Prints table size and live heap every 4 s.
 */
async function table(rate: number, secs: number): Promise<void> {
  const clock = new SimulatedClock();
  const stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock, maxTransactions });
  stack.onRequest((r) => r.respond(200));
  const internals = stack as unknown as {
    udp: { send(data: Buffer, host: string, port: number): void };
    receive(data: Buffer, source: { host: string; port: number; transport: 'udp' }, conn: undefined): void;
  };
  internals.udp.send = () => {};
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const stepMs = 10;
  const perStep = (rate * stepMs) / 1000;
  let n = 0;
  for (let t = 0; t < secs * 1000; t += stepMs) {
    for (let i = 0; i < perStep; i++, n++) {
      const body = `Hello ${n}`;
      const text =
        `MESSAGE sip:bob@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-${n};rport\r\n` +
        `From: <sip:alice@127.0.0.1:5999>;tag=${n}\r\nTo: <sip:bob@127.0.0.1:5060>\r\nCall-ID: ${n}-bench@127.0.0.1\r\n` +
        `CSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      internals.receive(Buffer.from(text), { host: '127.0.0.1', port: 5999, transport: 'udp' }, undefined);
    }
    clock.advance(stepMs);
    if ((t + stepMs) % 4000 === 0) {
      gc?.();
      const heap = process.memoryUsage().heapUsed - heap0;
      const s = stack.stats;
      console.log(
        `t=${String((t + stepMs) / 1000).padStart(3)} s: ${n} requests, table ${s.server}, 503 table full ${s.rejectedFull}, ` +
          `heap +${(heap / 2 ** 20).toFixed(0)} MiB (${s.server ? (heap / s.server).toFixed(0) : '-'} B per entry), ` +
          `${(((c) => (c.user + c.system) / n)(process.cpuUsage(cpu0))).toFixed(0)} µs CPU per request (no socket I/O, gc included)`,
      );
    }
  }
  await stack.close();
}

if (process.argv[2] === '--table') await table(Number(process.argv[3] ?? 10000), Number(process.argv[4] ?? 60));
else for (const transport of transports) for (const rate of rates) await run(transport as 'u1' | 't1', rate);
