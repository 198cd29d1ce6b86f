/**
 * Offline chat sessions end to end: SIPp (alice's SIP side, UDP) calls bob, who is offline,
 * with an MSRP chat offer; Parley (startServer, default applications, SimulatedClock) answers
 * on bob's behalf; an MSRP client (Parley's own MsrpEndpoint) writes as alice. The grace
 * window is driven by the simulated clock: no test waits 90 s.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedClock } from '../../../src/clock.js';
import { OFFLINE_SESSION_KIND } from '../../../src/actors/offlineSessionKind.js';
import { parseCpim } from '../../../src/formats/cpim.js';
import { describeRun, runSipp, SIPP } from '../../helpers/sipp.js';
import { tempDir } from '../../helpers/runtime.js';
import { cpimText, MsrpClient, startParley, withParley, testConfig, until, type Parley } from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const scenario = (name: string) => join(process.cwd(), 'test', 'sipp', name);
const BOB = 'sip:bob@parley.example';
const ALICE = 'sip:alice@example.com';

/** Starts SIPp as alice and connects the MSRP client to the session Parley answered with. */
async function call(parley: Parley, client: MsrpClient, file: string) {
  const { session, received } = client.session('active');
  const sipp = runSipp({ scenario: scenario(file), port: parley.sipPort, transport: 'u1', extra: ['-key', 'msrppath', session.localUri] });
  await until(() => parley.offline.executor.live.size === 1, 'the answered session');
  const [[key, live]] = [...parley.offline.executor.live.entries()];
  assert.equal(session.setRemote({ path: [live.msrp.localUri] }), undefined);
  const bound = await session.connect();
  assert.equal(bound.status, 200, 'the MSRP connection binds');
  return { session, received, sipp, key };
}

async function write(parley: Parley, session: Awaited<ReturnType<typeof call>>['session'], n: number, from = 1): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const before = parley.mailbox.mailboxStore.count(BOB);
    const r = await session.send(cpimText(ALICE, BOB, `message ${i}`, `imdn-${i}`), 'message/cpim');
    assert.equal(r.status, 200, `message ${i} answered 200`);
    // MSRP 200 only after the mailbox's commit: the message is in LMDB already.
    assert.equal(parley.mailbox.mailboxStore.count(BOB), before + 1, `message ${i} committed before its 200`);
  }
}

function storedTexts(parley: Parley): string[] {
  return parley.mailbox.mailboxStore.list(BOB).map((m) => {
    const cpim = parseCpim(Buffer.from(m.body));
    assert.ok(!(cpim instanceof Error));
    return cpim.body.toString();
  });
}

describe('offline chat sessions with SIPp', { skip, concurrency: false }, () => {
  it('answers for offline bob, greets, stores 3 messages with sender, time and ids, and BYEs at 90 s', async () => {
    await withParley(async ({ parley, clock, client }) => {
      const t0 = clock.now();
      const { session, received, sipp, key } = await call(parley, client, 'offline-caller.xml');
      await until(() => received.length === 1, 'the greeting');
      assert.equal(received[0].body.toString(), 'I am offline but you can type a message');
      await write(parley, session, 3);

      const stored = parley.mailbox.mailboxStore.list(BOB);
      assert.deepEqual(storedTexts(parley), ['message 1', 'message 2', 'message 3']);
      for (const [i, m] of stored.entries()) {
        assert.match(m.from, /^"Alice" <sip:alice@example\.com>$/);
        assert.equal(m.contentType, 'message/cpim');
        assert.equal(m.messageId, `imdn-${i + 1}`);
        assert.equal(m.receivedAt, t0);
      }

      clock.advance(89_999);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(parley.server.supervisor.peek(OFFLINE_SESSION_KIND, key), 'still open at 89.999 s');
      clock.advance(1);
      const run = await sipp;
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.messages, /BYE sip:alice@127\.0\.0\.1/);
      assert.match(run.messages, /Reason: SIP;cause=200;text="grace window over"/);
      await until(() => parley.server.supervisor.peek(OFFLINE_SESSION_KIND, key) === undefined, 'the ended session');
      await until(() => session.isEnded, 'the MSRP session closed');
      assert.equal(parley.mailbox.mailboxStore.count(BOB), 3, 'the mailbox keeps them');
    });
  });

  it('an early BYE from alice ends the session; what she wrote stays', async () => {
    await withParley(async ({ parley, client }) => {
      const { session, sipp, key } = await call(parley, client, 'offline-caller-bye.xml');
      await write(parley, session, 1);
      const run = await sipp;
      assert.equal(run.code, 0, describeRun(run));
      await until(() => parley.server.supervisor.peek(OFFLINE_SESSION_KIND, key) === undefined, 'the ended session');
      await until(() => session.isEnded, 'the MSRP session closed by Parley');
      assert.ok(![...parley.server.context.store.timers.getKeys()].some((k) => (k as unknown[])[1] === OFFLINE_SESSION_KIND), 'the grace timer is gone');
      assert.deepEqual(storedTexts(parley), ['message 1']);
    });
  });

  it('a caller offering a=setup:passive is connected to by Parley after the ACK (RFC 6135)', async () => {
    await withParley(async ({ parley, clock, client }) => {
      const { session, received } = client.session('passive');
      const sipp = runSipp({ scenario: scenario('offline-caller-passive.xml'), port: parley.sipPort, transport: 'u1', extra: ['-key', 'msrppath', session.localUri] });
      await until(() => parley.offline.executor.live.size === 1, 'the answered session');
      const [live] = [...parley.offline.executor.live.values()];
      assert.equal(live.msrp.setup, 'active');
      assert.equal(session.setRemote({ path: [live.msrp.localUri] }), undefined);
      await until(() => received.length === 1, 'the greeting over the connection Parley opened');
      await write(parley, session, 1);
      clock.advance(90_000);
      const run = await sipp;
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.messages, /a=setup:active/);
    });
  });

  it('a restart during the 90 s window still ends it on time and loses nothing', async () => {
    const dir = tempDir();
    const clock = new SimulatedClock();
    const config = testConfig(dir.path);
    let parley = await startParley(config, clock);
    const client = await new MsrpClient().start();
    try {
      const { session, sipp, key } = await call(parley, client, 'offline-caller.xml');
      await write(parley, session, 3);
      clock.advance(30_000);
      await parley.server.stop();
      parley = await startParley(config, clock);
      assert.ok(parley.server.supervisor.peek(OFFLINE_SESSION_KIND, key), 'the session survived the restart');
      assert.deepEqual(storedTexts(parley), ['message 1', 'message 2', 'message 3']);
      clock.advance(59_999);
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(parley.server.supervisor.peek(OFFLINE_SESSION_KIND, key), 'still open at 89.999 s');
      clock.advance(1);
      const run = await sipp;
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.messages, /text="grace window over"/);
      await until(() => parley.server.supervisor.peek(OFFLINE_SESSION_KIND, key) === undefined, 'the ended session');
      assert.deepEqual(storedTexts(parley), ['message 1', 'message 2', 'message 3']);
    } finally {
      await client.close();
      await parley.server.stop();
      dir.remove();
    }
  });
});
