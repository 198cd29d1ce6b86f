/**
 * Runtime benchmark (issue 2): persisted events per second through the supervisor for 1,
 * 1,000 and 100,000 distinct actors; heap per resident idle actor; time from start until
 * the supervisor accepts traffic with 100,000 persisted actors; latency of the first event
 * to a passivated actor.
 *
 *   npx tsx --expose-gc --max-semi-space-size=64 bench/runtime.ts [events=200000]
 *       (the server's own Node flag, bin/parley.js; BENCH_N=1000 for one size,
 *       BENCH_INFLIGHT=4000 dispatches in flight)
 *
 * Each room holds one joined host. "context changes": the events cycle a guest through it:
 * JOIN (participant added, ACK timer armed), ACK_RECEIVED (joined, timer cancelled), LEFT
 * (removed); every event is a real conference-machine transition that changes the context
 * (and the timers), so the room's record and timer index entries are rewritten and
 * committed to LMDB. "no change": a retransmitted ACK_RECEIVED for the joined host, which
 * changes neither state, context nor timers (no record write, the dispatch still waits for
 * the commit of the turn). A dispatch counts when it resolved (committed, effects out).
 * 4,000 dispatches are kept in flight; each LMDB transaction holds one event-loop turn, so
 * with 1 or 1,000 rooms a room takes several events per transaction and its record is
 * written once per transaction; with 100,000 rooms every event writes its own record.
 * CPU figures: whole process (all threads) and the main thread alone (Linux /proc), in
 * microseconds per event: on a shared machine they vary less than events/s. Temp dir,
 * system clock.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../src/clock.js';
import { roomKind } from '../src/actors/roomKind.js';
import { Store } from '../src/actors/store.js';
import { Supervisor } from '../src/actors/supervisor.js';
import { conferenceEvents as ev } from '../src/machines/conference.js';

const EVENTS = Number(process.argv[2] ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
const effects = { storeWrites: () => [], execute: () => undefined };

function open(): { store: Store; sup: Supervisor } {
  const store = new Store({ path: dir });
  const sup = new Supervisor({ store, clock: systemClock(), logger: pino({ level: 'silent' }), kinds: [roomKind({ ackTimeoutMs: 3_600_000 })], effects, idleMs: 3_600_000 });
  sup.start();
  return { store, sup };
}

const room = (i: number) => `sip:room${i}@conf.example.com`;
const person = (i: number) => ({ id: `d${i}`, uri: `sip:user${i}@example.com`, dialog: { callId: `c${i}` }, session: `s${i}` });

async function populate(sup: Supervisor, n: number): Promise<void> {
  const batch = 5000;
  for (let i = 0; i < n; i += batch) {
    const ps: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      ps.push(sup.dispatch('room', room(j), ev.join(person(j), `q${j}`, Date.now()), { create: true }));
      ps.push(sup.dispatch('room', room(j), ev.ackReceived(`d${j}`)));
    }
    await Promise.all(ps);
  }
}

/** CPU time of the main thread in microseconds (Linux), or NaN. */
function mainThreadCpu(): number {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * (1e6 / 100); // clock ticks, USER_HZ = 100
  } catch {
    return NaN;
  }
}

interface Rate {
  readonly perSecond: number;
  /** Dispatches that did not resolve 'ok' (a benchmark that measures failures measures nothing). */
  readonly notOk: number;
  /** Whole-process and main-thread CPU per event, microseconds. */
  readonly cpu: number;
  readonly mainCpu: number;
}

/**
 * Dispatches `total` events round-robin over `actors` rooms, keeping `inFlight` dispatches
 * outstanding (a server with many connections), and returns committed events per second.
 */
async function throughput(sup: Supervisor, actors: number, total: number, mode: 'change' | 'nochange' = 'change', inFlight = Number(process.env.BENCH_INFLIGHT ?? 4000)): Promise<Rate> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpu();
  let next = 0;
  let notOk = 0;
  async function lane(): Promise<void> {
    while (next < total) {
      const k = next++;
      const a = k % actors;
      const guest = `g${a}`;
      const step = Math.floor(k / actors) % 3;
      const event =
        mode === 'nochange'
          ? ev.ackReceived(`d${a}`)
          : step === 0
            ? ev.join({ ...person(a), id: guest }, `q${k}`, Date.now())
            : step === 1
              ? ev.ackReceived(guest)
              : ev.left(guest, 'bye');
      if ((await sup.dispatch('room', room(a), event)) !== 'ok') notOk++;
    }
  }
  await Promise.all(Array.from({ length: inFlight }, lane));
  const c = process.cpuUsage(c0);
  return { notOk, perSecond: total / ((performance.now() - t0) / 1000), cpu: (c.user + c.system) / total, mainCpu: (mainThreadCpu() - m0) / total };
}

function row(label: string, n: number, r: Rate): string {
  const cpu = `CPU ${r.cpu.toFixed(1)} us/event (main thread ${Number.isNaN(r.mainCpu) ? '?' : r.mainCpu.toFixed(1)})`;
  const failed = r.notOk > 0 ? `  (${r.notOk} dispatches not ok!)` : '';
  return `events/s, ${label.padEnd(15)} ${String(n).padStart(6)} distinct actors: ${Math.round(r.perSecond).toLocaleString('en-US').padStart(7)}  ${cpu}${failed}`;
}

const gc = (globalThis as { gc?: () => void }).gc;
function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

const { store, sup } = open();
const rows: string[] = [];
await populate(sup, 100_000);
for (const n of (process.env.BENCH_N ? [Number(process.env.BENCH_N)] : [1, 1000, 100_000])) {
  await throughput(sup, n, 3 * n * Math.max(1, Math.floor(20_000 / (3 * n)))); // warm-up, whole cycles
  rows.push(row('context changes', n, await throughput(sup, n, 3 * n * Math.max(1, Math.floor(EVENTS / (3 * n))))));
  rows.push(row('no change', n, await throughput(sup, n, 3 * n * Math.max(1, Math.floor(EVENTS / (3 * n))), 'nochange')));
}

// Heap per resident idle actor: passivate everything, then reactivate 100,000.
sup.passivateIdle(Date.now() + 7_200_000);
const before = heap();
await throughput(sup, 100_000, 300_000);
const after = heap();
rows.push(`heap per resident idle actor: ${((after - before) / 100_000 / 1024).toFixed(2)} KB (${sup.residentCount} resident)${gc ? '' : ' (run with --expose-gc for a precise figure)'}`);
await sup.stop();
await store.close();

// Start-up with 100,000 persisted actors, and the first event to a passivated one.
const t0 = performance.now();
const second = open();
const ready = performance.now() - t0;
rows.push(`ready with 100,000 persisted actors: ${ready.toFixed(1)} ms`);
const t1 = performance.now();
await second.sup.dispatch('room', room(54_321), ev.left('g54321', 'bye'));
rows.push(`first event to a passivated actor (restore + step + commit): ${(performance.now() - t1).toFixed(2)} ms`);
const lat: number[] = [];
for (let i = 0; i < 1000; i++) {
  const t = performance.now();
  await second.sup.dispatch('room', room(i * 97), ev.left(`g${i * 97}`, 'bye'));
  lat.push(performance.now() - t);
}
lat.sort((a, b) => a - b);
rows.push(`activation latency over 1,000 passivated actors: p50 ${lat[500].toFixed(2)} ms, p99 ${lat[990].toFixed(2)} ms`);
await second.sup.stop();
await second.store.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(rows.join('\n') + '\n');
