/**
 * Benchmark: offline SIP MESSAGE storage and delivery (the MSILO model, issue 6), Parley's
 * mailbox side by side with Kamailio's msilo module on its SQLite backend, both driven by SIPp.
 *
 *   npx tsx bench/msilo.ts [sizes=1000,10000] [--only parley|kamailio] [--window 100] [--warmup 2000]
 *                          [--kamailio-workers 1] [--rounds 1] [--cpu-prof DIR] [--node-flags '--max-semi-space-size=64' (bin/parley.js' default)]
 *
 * Needs SIPp and, for the comparison, Kamailio with its SQLite modules (Debian):
 *
 *   apt-get install sip-tester kamailio kamailio-sqlite-modules sqlite3
 *
 * The script installs nothing: without Kamailio, its SQLite schema files or the sqlite3 command
 * (which creates msilo's tables) it says so and measures Parley alone.
 *
 * For each size N, first the client's ceiling: the store scenario against a SIPp UAS that
 * answers 202 at once (`clientCeiling`). SIPp runs with `-timer_resol 1`: with its default of
 * 10 ms the client alone could not drive more than about 7,000 MESSAGEs/s.
 * Then for each server, on a fresh database:
 * 0. Warm-up (`--warmup W`, default 2,000; 0 = none): W MESSAGEs stored for another offline user,
 *    sip:carol@parley.example, then delivered to carol's UAS, as in steps 1 and 2, unmeasured. A
 *    server runs for months: what matters is its steady state, not the first seconds of a
 *    process, when Parley's JavaScript is still being compiled (measured: the first 10,000
 *    stores of a fresh Parley ran 25-30% slower than the next ones). Both servers get the same
 *    warm-up; `--warmup 0` gives cold figures.
 * 1. Storing: a SIPp UAC (`bench/sipp/msilo-store.xml`) sends N MESSAGEs to the offline user
 *    sip:bob@parley.example, body "msg <i>", at most `--window` unanswered at a time (closed
 *    loop, as fast as the server answers). Store rate = 202s / (last 202 - first send), times
 *    from SIPp's own log. A 202 means committed: Parley answers after the LMDB commit is
 *    flushed to disk (`Store.synced`); msilo after its SQLite INSERT (journal mode DELETE,
 *    synchronous FULL: one fsync'ed transaction per message).
 * 2. Delivery: a SIPp UAS (`bench/sipp/msilo-uas.xml`) stands for bob's UA and answers 200 to
 *    every MESSAGE; this script sends bob's REGISTER (Contact = the UAS) itself, so the clock
 *    starts when the REGISTER leaves. Delivery rate = distinct messages received / (last first-
 *    reception - REGISTER sent). Waits until all N arrived or nothing arrived for 15 s.
 * 3. Left behind: messages still stored after delivery settled (Parley: LMDB read after a
 *    clean stop; msilo: rows of the `silo` table after two check_time periods, msilo deletes
 *    delivered rows from its timer). Delivered twice: a body received under two Call-IDs
 *    (a retransmission of the same transaction is counted apart and is not a duplicate).
 *
 * Parley runs as a child process from source (`test/fixtures/cliMain.ts`, the `parley` CLI) on a
 * free port with a temporary data directory. Kamailio runs `bench/kamailio/kamailio.cfg`
 * (usrloc in memory + registrar + msilo, db_url sqlite) with its schema created from
 * /usr/share/kamailio/db_sqlite/{standard,msilo}-create.sql, with ONE worker process by default:
 * db_sqlite sets no busy timeout, so with 2 or more workers most m_store calls fail with
 * "database is locked" (measured: 2 workers stored 135 of 1,000, 4 workers 4 of 1,000).
 *
 * CPU: user+system seconds of the server's processes during each phase (/proc); the ratio line
 * also gives Kamailio's CPU per message over Parley's, which depends less than the rates on
 * what else runs on the machine (rates here are bounded by CPU share and, for msilo, fsync
 * latency: `dd if=/dev/zero of=x bs=4k count=200 oflag=dsync` shows the latter).
 * The machine is shared and small: quote `uptime` with the figures and run twice.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Store } from '../src/actors/store.js';
import { MailboxStore } from '../src/actors/mailboxStore.js';
import { freePort, udpBound } from '../test/helpers/sipp.js';

const SIPP = '/usr/bin/sipp';
const KAMAILIO = '/usr/sbin/kamailio';
const KAMAILIO_SQL = '/usr/share/kamailio/db_sqlite';
const BOB = 'bob';
const WARMUP_USER = 'carol';
const aorOf = (user: string) => `sip:${user}@parley.example`;
const root = process.cwd();

// ---- arguments -------------------------------------------------------------------------

const argv = process.argv.slice(2);
function flag(name: string, fallback: string): string {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
}
const only = flag('--only', '');
const windowSize = Number(flag('--window', '100'));
const kamailioWorkers = Number(flag('--kamailio-workers', '1'));
const rounds = Number(flag('--rounds', '1'));
const warmup = Number(flag('--warmup', '2000'));
const cpuProfDir = flag('--cpu-prof', '');
const nodeFlags = flag('--node-flags', '--max-semi-space-size=64').split(' ').filter(Boolean);
const sizes = (argv[0] ?? '1000,10000').split(',').map(Number);

if (!existsSync(SIPP)) {
  console.error('bench/msilo.ts: SIPp is missing (apt-get install sip-tester)');
  process.exit(1);
}
const haveKamailio = existsSync(KAMAILIO) && existsSync(join(KAMAILIO_SQL, 'msilo-create.sql')) && spawnSync('sqlite3', ['-version']).status === 0;
if (!haveKamailio && only !== 'parley') {
  console.log('Kamailio with SQLite is not installed: measuring Parley alone (apt-get install kamailio kamailio-sqlite-modules sqlite3 for the comparison)');
}

// ---- helpers ---------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** user+system CPU seconds of a process and its descendants (alive ones). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim();
        for (const k of kids ? kids.split(' ') : []) visit(Number(k));
      }
    } catch {
      /* gone */
    }
  };
  visit(pid);
  return ticks / 100;
}

/** Sends one SIP request over UDP and resolves with the first final response's status line. */
async function udpRequest(port: number, build: (local: number) => string, timeoutMs = 2000): Promise<string | undefined> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const local = sock.address().port;
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      sock.on('message', (m) => {
        const line = m.toString('utf8').split('\r\n', 1)[0];
        if (/^SIP\/2\.0 [2-6]\d\d/.test(line)) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      sock.send(build(local), port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

const token = () => randomBytes(6).toString('hex');

function options(port: number) {
  return (local: number) =>
    [
      `OPTIONS sip:ping@parley.example SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${token()};rport`,
      `From: <sip:bench@example.com>;tag=${token()}`,
      `To: <sip:ping@parley.example>`,
      `Call-ID: ${token()}@bench`,
      `CSeq: 1 OPTIONS`,
      `Max-Forwards: 70`,
      `Content-Length: 0`,
      '',
      '',
    ].join('\r\n');
}

function register(user: string, contactPort: number) {
  return (local: number) =>
    [
      `REGISTER sip:parley.example SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${token()};rport`,
      `From: <${aorOf(user)}>;tag=${token()}`,
      `To: <${aorOf(user)}>`,
      `Call-ID: ${token()}@bench`,
      `CSeq: 1 REGISTER`,
      `Contact: <sip:${user}@127.0.0.1:${contactPort}>`,
      `Expires: 600`,
      `Max-Forwards: 70`,
      `Content-Length: 0`,
      '',
      '',
    ].join('\r\n');
}

/** Waits until something answers SIP on `port`. */
async function waitSip(port: number, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    if ((await udpRequest(port, options(port), 200)) !== undefined) return;
    await sleep(100);
  }
  throw new Error(`${what} does not answer on ${port}`);
}

/** SIPp's `[timestamp]` keyword: "YYYY-MM-DD<TAB>HH:MM:SS.us<TAB>epoch.us"; returns ms. */
const stampMs = (s: string) => Number(s.trim().split(/\s+/).pop()) * 1000;

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// ---- the two servers -------------------------------------------------------------------

interface Target {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** Waits for deletes to settle, counts what is still stored, stops the server. */
  finish(): Promise<{ left: number; notes: string }>;
  /** How long the server takes to settle after a delivery (deletes of delivered messages). */
  readonly settleMs: number;
  kill(): void;
}

const PARLEY_SETTLE_MS = 1000;
/**
 * Two check_time periods (5 s): msilo deletes delivered rows from its timer process, whose
 * writes, while the worker stores, fail with "database is locked" on either side.
 */
const KAMAILIO_SETTLE_MS = 11_000;

async function startParley(dir: string, label: string): Promise<Target> {
  const port = await freePort();
  const data = join(dir, 'data'); // no dot in the path: lmdb-js treats "x.y" as a file
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(cpuProfDir, `parley-${label}`)] : [];
  const child = spawn(
    process.execPath,
    [...nodeFlags, ...prof, '--import', 'tsx', join(root, 'test', 'fixtures', 'cliMain.ts'),
      '--data-dir', data, '--sip-listen', `127.0.0.1:${port}`, '--msrp-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0',
      '--domains', 'parley.example', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout?.on('data', (d) => (log = (log + d.toString()).slice(-20000)));
  child.stderr?.on('data', (d) => (log = (log + d.toString()).slice(-20000)));
  await waitSip(port, child, 'parley');
  return {
    name: 'Parley',
    port,
    pid: child.pid as number,
    async finish() {
      await sleep(PARLEY_SETTLE_MS);
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
      const store = new Store({ path: data });
      try {
        const left = new MailboxStore(store).count(aorOf(BOB));
        const warnings = log.split('\n').filter((l) => /"level":(4|5|6)0/.test(l)).length;
        return { left, notes: warnings > 0 ? `${warnings} warnings/errors logged` : '' };
      } finally {
        await store.close();
      }
    },
    kill: () => child.kill('SIGKILL'),
    settleMs: PARLEY_SETTLE_MS,
  };
}

async function startKamailio(dir: string): Promise<Target> {
  const port = await freePort();
  const db = join(dir, 'msilo.db');
  for (const f of ['standard-create.sql', 'msilo-create.sql']) {
    const r = spawnSync('sqlite3', [db], { input: readFileSync(join(KAMAILIO_SQL, f)) });
    if (r.status !== 0) throw new Error(`sqlite3 ${f}: ${r.stderr}`);
  }
  const child = spawn(
    KAMAILIO,
    ['-f', join(root, 'bench', 'kamailio', 'kamailio.cfg'), '-DD', '-E', '-n', String(kamailioWorkers), '-m', '256', '-M', '32',
      '-l', `udp:127.0.0.1:${port}`, '-A', `DBURL="sqlite:///${db}"`, '-A', `MSILO_PROXY="sip:127.0.0.1:${port}"`, '-w', dir, '-Y', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d) => (log += d.toString()));
  await waitSip(port, child, 'kamailio');
  return {
    name: 'Kamailio',
    port,
    pid: child.pid as number,
    async finish() {
      await sleep(KAMAILIO_SETTLE_MS);
      // Counted once Kamailio has stopped: while it runs, its writers keep the file locked.
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.on('exit', r)));
      let left = NaN;
      for (let i = 0; i < 50 && Number.isNaN(left); i++) {
        const r = spawnSync('sqlite3', [db, `select count(*) from silo where username='${BOB}'`]);
        if (r.status === 0) left = Number(r.stdout.toString().trim());
        else await sleep(200);
      }
      const locked = (log.match(/database is locked/g) ?? []).length;
      const errors = log.split('\n').filter((l) => /ERROR/.test(l)).length;
      return { left, notes: errors > 0 ? `${errors} ERROR lines (${locked} "database is locked")` : '' };
    },
    kill: () => child.kill('SIGKILL'),
    settleMs: KAMAILIO_SETTLE_MS,
  };
}

// ---- the phases ------------------------------------------------------------------------

interface StoreResult {
  accepted: number;
  failed: number;
  seconds: number;
  rate: number;
  cpu: number;
}

async function storePhase(t: Target, n: number, dir: string, user = BOB): Promise<StoreResult> {
  const logFile = join(dir, `store-${user}.log`);
  const cpu0 = cpuSeconds(t.pid);
  const r = spawnSync(
    SIPP,
    [`127.0.0.1:${t.port}`, '-sf', join(root, 'bench', 'sipp', 'msilo-store.xml'), '-m', String(n), '-r', '1000000', '-l', String(windowSize),
      '-t', 'u1', '-i', '127.0.0.1', '-p', String(await freePort()), '-nostdin', '-set', 'user', user, '-timeout', `${Math.ceil(n / 50) + 30}s`,
      '-buff_size', String(4 * 1024 * 1024), '-timer_resol', '1', '-trace_logs', '-log_file', logFile],
    { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const cpu = cpuSeconds(t.pid) - cpu0;
  let first = Infinity;
  let last = 0;
  const accepted = new Set<string>();
  for (const line of readLog(logFile).split('\n')) {
    const m = /^([SA]) (\d+) (.+)$/.exec(line.trim());
    if (!m) continue;
    const at = stampMs(m[3]);
    if (m[1] === 'S') first = Math.min(first, at);
    else {
      accepted.add(m[2]);
      last = Math.max(last, at);
    }
  }
  const failed = Number(/Failed call\s*\|\s*\d+\s*\|\s*(\d+)/.exec(r.stdout ?? '')?.[1] ?? NaN);
  const seconds = (last - first) / 1000;
  return { accepted: accepted.size, failed, seconds, rate: accepted.size / seconds, cpu };
}

interface DeliveryResult {
  received: number;
  duplicates: number;
  retransmissions: number;
  seconds: number;
  rate: number;
  cpu: number;
  /** From the REGISTER to the first message received. */
  firstMs: number;
  /** Longest silence between two first receptions (a lost packet waits for a retransmission). */
  gapMs: number;
}

async function deliveryPhase(t: Target, n: number, dir: string, user = BOB): Promise<DeliveryResult> {
  const logFile = join(dir, `uas-${user}.log`);
  const uasPort = await freePort();
  const uas = spawn(
    SIPP,
    ['-sf', join(root, 'bench', 'sipp', 'msilo-uas.xml'), '-t', 'u1', '-i', '127.0.0.1', '-p', String(uasPort), '-nostdin', '-timer_resol', '1',
      '-buff_size', String(8 * 1024 * 1024), '-trace_logs', '-log_file', logFile],
    { cwd: dir, stdio: 'ignore' },
  );
  // A delivery sent before SIPp listens is lost and retransmitted 0.5 s later.
  await Promise.race([udpBound(uasPort), new Promise((_, reject) => uas.once('exit', (code) => reject(new Error(`SIPp UAS exited (${code})`))))]);
  await sleep(100); // bound; let it reach its receive loop
  const cpu0 = cpuSeconds(t.pid);
  const t0 = Date.now();
  const answer = await udpRequest(t.port, register(user, uasPort));
  if (answer === undefined || !answer.startsWith('SIP/2.0 200')) throw new Error(`${t.name}: REGISTER answered ${answer ?? 'nothing'}`);

  const firstSeen = new Map<string, { callId: string; at: number }>();
  let duplicates = 0;
  let retransmissions = 0;
  let parsed = 0;
  let lastGrowth = Date.now();
  const scan = () => {
    const lines = readLog(logFile).split('\n');
    // The last line may be partial: read it next time.
    const complete = lines.length - 1;
    for (; parsed < complete; parsed++) {
      const m = /^D (\S*) (\S+) (.+)$/.exec(lines[parsed].trim());
      if (!m) continue;
      const seen = firstSeen.get(m[1]);
      if (seen === undefined) firstSeen.set(m[1], { callId: m[2], at: stampMs(m[3]) });
      else if (seen.callId === m[2]) retransmissions++;
      else duplicates++;
      lastGrowth = Date.now();
    }
  };
  while (firstSeen.size < n && Date.now() - lastGrowth < 15_000) {
    await sleep(100);
    scan();
  }
  await sleep(1500); // late duplicates and retransmissions
  scan();
  const cpu = cpuSeconds(t.pid) - cpu0;
  uas.kill('SIGTERM');
  await new Promise((r) => (uas.exitCode !== null ? r(null) : uas.on('exit', r)));
  scan();
  const times = [...firstSeen.values()].map((x) => x.at).sort((a, b) => a - b);
  const last = times.length > 0 ? times[times.length - 1] : t0;
  let gapMs = 0;
  for (let i = 1; i < times.length; i++) gapMs = Math.max(gapMs, times[i] - times[i - 1]);
  const seconds = (last - t0) / 1000;
  return { received: firstSeen.size, duplicates, retransmissions, seconds, rate: firstSeen.size / seconds, cpu, firstMs: (times[0] ?? NaN) - t0, gapMs };
}

interface RunResult {
  server: string;
  n: number;
  store: StoreResult;
  delivery: DeliveryResult;
  left: number;
  notes: string;
}

async function run(which: 'parley' | 'kamailio', n: number, round: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `msilo-bench-${which}-`));
  let t: Target | undefined;
  try {
    t = which === 'parley' ? await startParley(dir, `${n}-${round}`) : await startKamailio(dir);
    if (warmup > 0) {
      const w = await storePhase(t, warmup, dir, WARMUP_USER);
      const d = await deliveryPhase(t, warmup, dir, WARMUP_USER);
      // Reported, not fatal: msilo loses deliveries (measured: 1,900 of 2,000 in one warm-up).
      if (w.accepted !== warmup || d.received !== warmup) console.log(`${t.name.padEnd(8)} warm-up: stored ${w.accepted} and delivered ${d.received} of ${warmup}`);
      await sleep(t.settleMs);
    }
    const store = await storePhase(t, n, dir);
    const delivery = await deliveryPhase(t, n, dir);
    const { left, notes } = await t.finish();
    t = undefined;
    return { server: which === 'parley' ? 'Parley' : 'Kamailio', n, store, delivery, left, notes };
  } finally {
    t?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The client's ceiling: the store scenario against a SIPp UAS that answers 202 at once
 * (`bench/sipp/instant-202.xml`), with the same window. Measured: 7,000/s with SIPp's default
 * 10 ms timer resolution, 13,000/s with the 1 ms the phases use; a server rate near this
 * figure says more about the client than about the server.
 */
async function clientCeiling(n: number): Promise<StoreResult> {
  const dir = mkdtempSync(join(tmpdir(), 'msilo-bench-ceiling-'));
  const port = await freePort();
  const uas = spawn(SIPP, ['-sf', join(root, 'bench', 'sipp', 'instant-202.xml'), '-t', 'u1', '-i', '127.0.0.1', '-p', String(port), '-nostdin', '-timer_resol', '1', '-buff_size', String(4 * 1024 * 1024)], { cwd: dir, stdio: 'ignore' });
  try {
    await Promise.race([udpBound(port), new Promise((_, reject) => uas.once('exit', (code) => reject(new Error(`SIPp UAS exited (${code})`))))]);
    const pid = uas.pid as number;
    const target: Target = { name: 'SIPp', port, pid, settleMs: 0, finish: async () => ({ left: 0, notes: '' }), kill: () => uas.kill('SIGKILL') };
    return await storePhase(target, n, dir);
  } finally {
    uas.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- report ----------------------------------------------------------------------------

const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');

function line(r: RunResult): string {
  const s = r.store;
  const d = r.delivery;
  return (
    `${r.server.padEnd(8)} N=${String(r.n).padEnd(6)} ` +
    `store ${f0(s.rate).padStart(6)}/s (${s.accepted} x 202, ${s.failed} failed, ${f2(s.seconds)} s, CPU ${f2(s.cpu)} s) | ` +
    `delivery ${f0(d.rate).padStart(6)}/s (${d.received} received, ${f2(d.seconds)} s, first after ${f0(d.firstMs)} ms, longest gap ${f0(d.gapMs)} ms, CPU ${f2(d.cpu)} s) | ` +
    `left behind ${r.left}, delivered twice ${d.duplicates}, retransmitted ${d.retransmissions}` +
    (r.notes ? ` | ${r.notes}` : '')
  );
}

console.log(`bench/msilo.ts: sizes ${sizes.join(', ')}, warm-up ${warmup}, SIPp window ${windowSize}, Kamailio workers ${kamailioWorkers}, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
for (let round = 1; round <= rounds; round++) {
  for (const n of sizes) {
    const c = await clientCeiling(n);
    console.log(`SIPp     N=${String(n).padEnd(6)} client ceiling ${f0(c.rate).padStart(6)}/s (${c.accepted} x 202 from an instant responder, ${f2(c.seconds)} s)`);
    const results: RunResult[] = [];
    if (only !== 'kamailio') {
      results.push(await run('parley', n, round));
      console.log(line(results[results.length - 1]));
    }
    if (only !== 'parley' && haveKamailio) {
      results.push(await run('kamailio', n, round));
      console.log(line(results[results.length - 1]));
    }
    const p = results.find((r) => r.server === 'Parley');
    const k = results.find((r) => r.server === 'Kamailio');
    if (p && k) {
      const sr = p.store.rate / k.store.rate;
      const dr = p.delivery.rate / k.delivery.rate;
      const clean = p.left === 0 && p.delivery.duplicates === 0 && p.store.accepted === n && p.delivery.received === n;
      // CPU per message: less sensitive than rates to what else runs on the machine.
      const cpuStore = (k.store.cpu / k.store.accepted) / (p.store.cpu / p.store.accepted);
      const cpuDelivery = (k.delivery.cpu / k.delivery.received) / (p.delivery.cpu / p.delivery.received);
      console.log(
        `ratio    N=${String(n).padEnd(6)} store x${f2(sr)} (target >= 10), delivery x${f2(dr)} (target >= 3), ` +
          `CPU per message Kamailio/Parley store x${f2(cpuStore)} delivery x${f2(cpuDelivery)}, ` +
          `Parley lost ${n - p.delivery.received + (n - p.store.accepted)}, duplicates ${p.delivery.duplicates}: ` +
          `${sr >= 10 && dr >= 3 && clean ? 'targets met' : 'TARGETS MISSED'}`,
      );
    }
  }
}
console.log(`load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
