/**
 * SIGKILL in the middle of a storing burst: every MESSAGE that was answered 202 is in the
 * mailbox after the kill (202 goes out only after the LMDB commit). The server runs in a child
 * process; SIPp sends at 2,000/s and traces what it received.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../../src/actors/store.js';
import { MailboxStore } from '../../../src/actors/mailboxStore.js';
import { freePort, SIPP } from '../../helpers/sipp.js';
import { spawnServerFixture } from '../../helpers/child.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';

test('a SIGKILL during a storing burst loses no message answered 202', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mb-crash-'));
  const traceDir = mkdtempSync(join(tmpdir(), 'sipp-crash-'));
  try {
    const { child: server, port: started } = spawnServerFixture(join('test', 'app', 'mailbox', 'fixtures', 'mailboxServer.ts'), dir);
    const port = await started;
    const trace = join(traceDir, 'messages.log');
    const client = spawn(SIPP, [
      `127.0.0.1:${port}`, '-sf', join(process.cwd(), 'test', 'sipp', 'mailbox-store.xml'), '-m', '20000', '-r', '2000', '-l', '500',
      '-t', 'u1', '-i', '127.0.0.1', '-p', String(await freePort()), '-nostdin', '-timeout', '20s',
      '-trace_msg', '-message_file', trace,
    ], { cwd: traceDir, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 1500));
    server.kill('SIGKILL');
    await new Promise((r) => server.on('close', r));
    client.kill('SIGINT');
    await new Promise((r) => client.on('close', r));

    // Call-IDs of the MESSAGEs SIPp saw answered 202.
    const accepted = new Set<string>();
    for (const block of readFileSync(trace, 'utf8').split(/----------------------------------------------- /)) {
      if (!/message received/.test(block) || !/^SIP\/2\.0 202/m.test(block)) continue;
      const id = /^Call-ID:\s*(.+?)\s*$/im.exec(block)?.[1];
      if (id) accepted.add(id);
    }
    assert.ok(accepted.size > 100, `the burst was under way (${accepted.size} accepted)`);

    const store = new Store({ path: dir });
    try {
      const mailbox = new MailboxStore(store);
      const stored = new Set(mailbox.list('sip:bob@parley.example', 0, 100_000).map((m) => m.callId));
      const lost = [...accepted].filter((id) => !stored.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${accepted.size} answered 202 but not stored`);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(traceDir, { recursive: true, force: true });
  }
});
