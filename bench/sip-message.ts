/**
 * Benchmark: MESSAGE transactions answered per second by the embedded SIP stack.
 * A MESSAGE-answering app (200 OK) runs in this process; SIPp (`test/sipp/message.xml`) is the
 * UAC, at increasing rates, over UDP then TCP. Prints, per run: offered rate, transactions
 * answered per second (SIPp's successful calls / wall time), failed calls, and this process's
 * CPU use (process.cpuUsage over the run, as a share of one core).
 *
 *   npx tsx bench/sip-message.ts [rates=2000,5000,10000,15000] [seconds=4]
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pino from 'pino';
import { createSipStack } from '../src/transport/sip/stack.js';
import { freePort } from '../test/helpers/sipp.js';

const rates = (process.argv[2] ?? '2000,5000,10000,15000').split(',').map(Number);
const seconds = Number(process.argv[3] ?? 4);
const scenario = join(process.cwd(), 'test', 'sipp', 'message.xml');

const stack = await createSipStack({ host: '127.0.0.1', port: 0, logger: pino({ level: 'warn' }), maxTransactions: 1_000_000 });
let answered = 0;
stack.onRequest((r) => {
  if (r.request.method === 'MESSAGE') {
    answered++;
    r.respond(200);
  } else r.respond(405);
});

async function run(transport: 'u1' | 't1', rate: number): Promise<void> {
  const calls = rate * seconds;
  const local = await freePort();
  const args = [
    `127.0.0.1:${stack.ports.udp}`, '-sf', scenario, '-t', transport, '-i', '127.0.0.1', '-p', String(local),
    '-r', String(rate), '-m', String(calls), '-l', String(Math.max(1000, rate * 2)),
    '-timeout', String(seconds * 4 + 20) + 's', '-nostdin', '-buff_size', String(4 * 1024 * 1024), '-nr',
  ];
  const answeredBefore = answered;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const child = spawn('/usr/bin/sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d.toString()).slice(-20000)));
  child.stderr.on('data', (d) => (out = (out + d.toString()).slice(-20000)));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const last = (label: string) => {
    const m = [...out.matchAll(new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`, 'g'))].pop();
    return m ? Number(m[1]) : NaN;
  };
  const ok = last('Successful call');
  const failed = last('Failed call');
  const cpuShare = (cpu.user + cpu.system) / 1e6 / wall;
  console.log(
    `${transport === 'u1' ? 'UDP' : 'TCP'} offered ${String(rate).padStart(6)}/s x ${calls}: ` +
      `answered ${(ok / wall).toFixed(0).padStart(6)} tx/s (${ok} ok, ${failed} failed, app saw ${answered - answeredBefore}), ` +
      `wall ${wall.toFixed(2)} s, Parley CPU ${(cpuShare * 100).toFixed(0)}% of one core, sipp exit ${code}`,
  );
}

for (const transport of ['u1', 't1'] as const) for (const rate of rates) await run(transport, rate);
await stack.close();
