/**
 * SIGKILL during an offline session's grace window: Parley (startServer, default applications,
 * as the CLI starts it) runs in a child process on a SimulatedClock that the test moves
 * (test/fixtures/serverChild.ts); alice (SIPp + MSRP client) writes 3 messages, each answered
 * 200; the child is killed and a new one started on the same data directory, its clock 30 s
 * later; the durable grace-window timer fires at its original due time (answer + 90 s): not
 * at 1 ms before, when the session is still open and alice got no BYE, but at it, with Reason
 * "grace window over"; and the 3 messages are in bob's mailbox. No real wait for the window:
 * only SIPp's and the MSRP client's own timers are real.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../../src/actors/store.js';
import { MailboxStore } from '../../../src/actors/mailboxStore.js';
import { OFFLINE_SESSION_KIND } from '../../../src/actors/offlineSessionKind.js';
import { freePort, SIPP } from '../../helpers/sipp.js';
import { forkFixture, type FixtureChild } from '../../helpers/child.js';
import { cpimText, MsrpClient, until } from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const CHILD = fileURLToPath(new URL('../../fixtures/serverChild.ts', import.meta.url));
const T0 = Date.UTC(2026, 10, 22, 9, 0, 0);
const GRACE_MS = 90_000; // the default offlineGraceTime
const RESTART_AT = T0 + 30_000;

interface Session {
  key: string;
  value: unknown;
  context: { closesAt: number | null; stored: number };
}

/** Starts Parley in a child process on a clock at `at`; resolves once it listens. */
async function startChild(dataDir: string, at: number): Promise<FixtureChild & { port: number }> {
  const f = forkFixture(CHILD, [dataDir, String(at)]);
  const { sip } = await f.next((m) => m.ready);
  return { ...f, port: sip };
}

async function sessions(f: FixtureChild): Promise<Session[]> {
  f.child.send({ cmd: 'actors', kind: OFFLINE_SESSION_KIND });
  return (await f.next((m) => m.actors)).actors;
}

async function advanceTo(f: FixtureChild, t: number): Promise<void> {
  f.child.send({ cmd: 'advanceTo', t });
  assert.equal((await f.next((m) => m.now !== undefined)).now, t);
}

test('a SIGKILL during the grace window: the window still ends at its due time and nothing answered 200 is lost', { skip, timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-off-crash-'));
  const traceDir = mkdtempSync(join(tmpdir(), 'sipp-off-crash-'));
  const client = await new MsrpClient().start();
  const children: ChildProcess[] = [];
  let sipp: ChildProcess | undefined;
  try {
    const first = await startChild(dataDir, T0);
    children.push(first.child);
    const alice = client.session('active');
    const trace = join(traceDir, 'messages.log');
    sipp = spawn(SIPP, [
      `127.0.0.1:${first.port}`, '-sf', join(process.cwd(), 'test', 'sipp', 'offline-caller.xml'), '-m', '1', '-t', 'u1', '-i', '127.0.0.1',
      '-p', String(await freePort()), '-nostdin', '-timeout', '20s', '-timeout_error', '-trace_msg', '-message_file', trace, '-key', 'msrppath', alice.session.localUri,
    ], { cwd: traceDir, stdio: 'ignore' });
    let sippExited = false;
    const sippDone = new Promise<number | null>((r) => sipp!.on('close', (code) => {
      sippExited = true;
      r(code);
    }));

    // Parley's a=path, from the 200 OK SIPp received.
    let path: string | undefined;
    await until(() => {
      const m = existsSync(trace) ? /^a=path:(msrp:\S+)\s*$/m.exec(readFileSync(trace, 'utf8').split('SIP/2.0 200 OK').slice(1).join('')) : null;
      path = m?.[1];
      return path !== undefined;
    }, 'the answer in the SIPp trace');
    alice.session.setRemote({ path: [path as string] });
    assert.equal((await alice.session.connect()).status, 200);
    for (let i = 1; i <= 3; i++) assert.equal((await alice.session.send(cpimText('sip:alice@example.com', 'sip:bob@parley.example', `message ${i}`, `imdn-${i}`), 'message/cpim')).status, 200);

    // Answered at T0 (the child's clock has not moved): the window closes at T0 + 90 s.
    const due = T0 + GRACE_MS;
    const [open] = await sessions(first);
    assert.equal(open?.context.closesAt, due);
    assert.equal(open.context.stored, 3);

    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.on('close', r));
    const second = await startChild(dataDir, RESTART_AT);
    children.push(second.child);
    assert.deepEqual((await sessions(second)).map((s) => [s.key, s.context.closesAt]), [[open.key, due]], 'the session survived the kill');

    // 1 ms before the due time: still open, no BYE.
    await advanceTo(second, due - 1);
    assert.deepEqual((await sessions(second)).map((s) => s.value), ['open'], 'still open 1 ms before the window ends');
    await new Promise((r) => setTimeout(r, 100)); // room for a wrong BYE to reach alice
    assert.equal(sippExited, false, 'alice got no BYE before the window ends');

    // At the due time: the BYE, for the window's end.
    await advanceTo(second, due);
    const noBye = new Promise<'none'>((r) => setTimeout(() => r('none'), 5000).unref()); // a deadline, not a protocol timer
    const code = await Promise.race([sippDone, noBye]);
    assert.notEqual(code, 'none', `no BYE reached alice at the due time\n${readFileSync(trace, 'utf8').slice(-3000)}`);
    assert.equal(code, 0, `alice got Parley's BYE\n${readFileSync(trace, 'utf8').slice(-3000)}`);
    sipp = undefined;
    assert.match(readFileSync(trace, 'utf8'), /Reason: SIP;cause=200;text="grace window over"/);
    assert.deepEqual(await sessions(second), [], 'the session actor ended');

    second.child.kill('SIGTERM');
    assert.equal((await new Promise((r) => second.child.on('exit', r))), 0, 'a clean stop');
    const store = new Store({ path: dataDir });
    try {
      const stored = new MailboxStore(store).list('sip:bob@parley.example');
      assert.deepEqual(stored.map((m) => m.messageId), ['imdn-1', 'imdn-2', 'imdn-3']);
      const left = [...store.snapshots.getKeys({ start: [OFFLINE_SESSION_KIND] as never, end: [`${OFFLINE_SESSION_KIND}\u0000`] as never })];
      assert.deepEqual(left, [], 'no session left in LMDB');
    } finally {
      await store.close();
    }
  } finally {
    // A failed assertion must not leave a child holding the test runner open.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    sipp?.kill('SIGKILL');
    await client.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(traceDir, { recursive: true, force: true });
  }
});
