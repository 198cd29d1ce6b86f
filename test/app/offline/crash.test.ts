/**
 * SIGKILL during an offline session's grace window: the parley CLI runs in a child process
 * (system clock, grace window 4 s: the only real wait, the in-process tests use a simulated
 * clock); alice (SIPp + MSRP client) writes 3 messages, each answered 200; the child is killed
 * and a new one started on the same data directory; the BYE still reaches alice when the
 * window ends, and the 3 messages are in bob's mailbox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../src/actors/store.js';
import { MailboxStore } from '../../../src/actors/mailboxStore.js';
import { freePort, SIPP } from '../../helpers/sipp.js';
import { cpimText, MsrpClient, until } from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const CLI = join(process.cwd(), 'test', 'fixtures', 'cliMain.ts');
const GRACE_S = 4;

/** Starts the CLI; resolves with its SIP UDP port once it logged `parley listening`. */
async function startChild(dataDir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--sip-listen', '127.0.0.1:0', '--msrp-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--offline-grace-time', String(GRACE_S)],
    { env: { ...process.env, PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const rec = JSON.parse(line) as { msg?: string; sip?: { udp: number } };
    if (rec.msg === 'parley listening' && rec.sip) {
      child.stdout!.resume();
      return { child, port: rec.sip.udp };
    }
  }
  throw new Error('the child exited before listening');
}

test('a SIGKILL during the grace window: the window still ends on time and nothing answered 200 is lost', { skip, timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-off-crash-'));
  const traceDir = mkdtempSync(join(tmpdir(), 'sipp-off-crash-'));
  const client = await new MsrpClient().start();
  let second: ChildProcess | undefined;
  try {
    const first = await startChild(dataDir);
    const alice = client.session('active');
    const trace = join(traceDir, 'messages.log');
    // The window starts when Parley answers: after this instant, and before the trace shows
    // the 200 (polled, so late under load). Each bound uses the side that cannot flatter it.
    const invitedAt = Date.now();
    const sipp = spawn(SIPP, [
      `127.0.0.1:${first.port}`, '-sf', join(process.cwd(), 'test', 'sipp', 'offline-caller.xml'), '-m', '1', '-t', 'u1', '-i', '127.0.0.1',
      '-p', String(await freePort()), '-nostdin', '-timeout', '20s', '-timeout_error', '-trace_msg', '-message_file', trace, '-key', 'msrppath', alice.session.localUri,
    ], { cwd: traceDir, stdio: 'ignore' });
    const sippDone = new Promise<number | null>((r) => sipp.on('close', r));

    // Parley's a=path, from the 200 OK SIPp received (the child cannot be looked into).
    let path: string | undefined;
    await until(() => {
      const m = existsSync(trace) ? /^a=path:(msrp:\S+)\s*$/m.exec(readFileSync(trace, 'utf8').split('SIP/2.0 200 OK').slice(1).join('')) : null;
      path = m?.[1];
      return path !== undefined;
    }, 'the answer in the SIPp trace');
    const answeredAt = Date.now();
    alice.session.setRemote({ path: [path as string] });
    assert.equal((await alice.session.connect()).status, 200);
    for (let i = 1; i <= 3; i++) assert.equal((await alice.session.send(cpimText('sip:alice@example.com', 'sip:bob@parley.example', `message ${i}`, `imdn-${i}`), 'message/cpim')).status, 200);

    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.on('close', r));
    const restarted = await startChild(dataDir);
    second = restarted.child;
    assert.ok(Date.now() - answeredAt < GRACE_S * 1000, 'the new process runs before the window ends');

    assert.equal(await sippDone, 0, `alice got Parley's BYE\n${readFileSync(trace, 'utf8').slice(-3000)}`);
    const byeAt = Date.now();
    assert.ok(byeAt - invitedAt >= GRACE_S * 1000, `BYE not before the window's end (${byeAt - invitedAt} ms after the INVITE)`);
    assert.ok(byeAt - answeredAt < GRACE_S * 1000 + 2000, `BYE on time (${byeAt - answeredAt} ms)`);
    assert.match(readFileSync(trace, 'utf8'), /Reason: SIP;cause=200;text="grace window over"/);

    second.kill('SIGTERM');
    await new Promise((r) => second!.on('close', r));
    second = undefined;
    const store = new Store({ path: dataDir });
    try {
      const stored = new MailboxStore(store).list('sip:bob@parley.example');
      assert.deepEqual(stored.map((m) => m.messageId), ['imdn-1', 'imdn-2', 'imdn-3']);
      const sessions = [...store.snapshots.getKeys({ start: ['offline'] as never, end: ['offline\u0000'] as never })];
      assert.deepEqual(sessions, [], 'the session actor ended');
    } finally {
      await store.close();
    }
  } finally {
    second?.kill('SIGKILL');
    await client.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(traceDir, { recursive: true, force: true });
  }
});
