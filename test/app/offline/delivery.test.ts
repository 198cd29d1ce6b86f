/**
 * Delivery of offline-session messages end to end: alice (SIPp + MSRP client) writes 3
 * messages into an offline session; bob REGISTERs (SIPp); Parley opens a session to bob's
 * contact (SIPp UAS) that comes from alice, delivers the 3 messages in order with CPIM From =
 * alice and DateTime = the stored time over MSRP (the client as bob), deletes each after its
 * 200, hangs up; the mailbox's MESSAGE path sends none of them. A declined session is retried.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedClock } from '../../../src/clock.js';
import { SESSION_DELIVERY_KIND, sessionDeliveryKey } from '../../../src/actors/sessionDeliveryKind.js';
import { parseCpim } from '../../../src/formats/cpim.js';
import { freePort, runSipp, describeRun, SIPP, udpBound } from '../../helpers/sipp.js';
import { tempDir } from '../../helpers/runtime.js';
import { aliceWrites, cpimText, MsrpClient, sippAt, startParley, withParley, testConfig, until, type Parley } from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const scenario = (name: string) => join(process.cwd(), 'test', 'sipp', name);
const BOB = 'sip:bob@parley.example';
const ALICE = 'sip:alice@example.com';

async function register(parley: Parley, uasPort: number): Promise<void> {
  const reg = await runSipp({ scenario: scenario('mailbox-register.xml'), port: parley.sipPort, transport: 'u1', extra: ['-key', 'uasport', String(uasPort)] });
  assert.equal(reg.code, 0, describeRun(reg));
}

describe('delivery of offline-session messages with SIPp', { skip, concurrency: false }, () => {
  it('bob registers and receives a session from alice carrying her 3 messages, each deleted after its 200', async () => {
    await withParley(async ({ parley, clock, client }) => {
      const storedAt = await aliceWrites(parley, clock, client, 3);
      assert.equal(parley.mailbox.mailboxStore.count(BOB), 3);

      const bob = client.session('active');
      const uasPort = await freePort();
      const uas = sippAt({ scenario: scenario('offline-user-uas.xml'), port: uasPort, keys: { msrppath: bob.session.localUri } });
      await udpBound(uasPort);
      await register(parley, uasPort);

      await until(() => [...parley.offline.runner.live.values()].some((s) => s.remotePath !== undefined), 'the delivery session answered');
      const [out] = [...parley.offline.runner.live.values()];
      bob.session.setRemote({ path: [out.localUri] });
      assert.equal((await bob.session.connect()).status, 200);
      const run = await uas;
      assert.equal(run.code, 0, `bob's UA got the INVITE from alice and the BYE\n${run.stderr}\n${run.messages.slice(-3000)}`);
      assert.match(run.messages, /^From: "Alice" <sip:alice@example\.com>;tag=/m);

      assert.equal(bob.received.length, 3);
      for (const [i, m] of bob.received.entries()) {
        assert.equal(m.contentType, 'message/cpim');
        const cpim = parseCpim(m.body);
        assert.ok(!(cpim instanceof Error));
        assert.equal(cpim.from?.uri, ALICE, 'CPIM From = the caller');
        assert.equal(cpim.to[0]?.uri, BOB);
        assert.equal(cpim.body.toString(), `message ${i + 1}`, 'in order');
        assert.equal(cpim.dateTime, new Date(storedAt).toISOString(), 'DateTime = when it was stored');
        assert.equal(cpim.headers.find((h) => h.name === 'imdn.Message-ID')?.value, `imdn-${i + 1}`);
      }
      await until(() => parley.mailbox.mailboxStore.count(BOB) === 0, 'the mailbox emptied');
      await until(() => parley.server.supervisor.peek(SESSION_DELIVERY_KIND, sessionDeliveryKey(BOB, ALICE)) === undefined, 'the delivery ended');
      assert.equal(parley.mailbox.mailboxStore.stats().dumped_messages, 3);
    });
  });

  it('a marked INVITE for registered bob is answered with his domain greeting; his delivery starts when alice hangs up', async () => {
    await withParley(async ({ parley, client }) => {
      const bob = client.session('active');
      const uasPort = await freePort();
      const uas = sippAt({ scenario: scenario('offline-user-uas.xml'), port: uasPort, keys: { msrppath: bob.session.localUri } });
      await udpBound(uasPort);
      await register(parley, uasPort);

      const alice = client.session('active');
      const caller = runSipp({ scenario: scenario('offline-caller-marked.xml'), port: parley.sipPort, transport: 'u1', extra: ['-key', 'msrppath', alice.session.localUri] });
      await until(() => parley.offline.executor.live.size === 1, 'the answered session');
      const [live] = [...parley.offline.executor.live.values()];
      alice.session.setRemote({ path: [live.msrp.localUri] });
      assert.equal((await alice.session.connect()).status, 200);
      await until(() => alice.received.length === 1, 'the greeting');
      assert.equal(alice.received[0].body.toString(), 'Bob is away, write to him');
      assert.equal((await alice.session.send(cpimText(ALICE, BOB, 'call me back', 'imdn-m'), 'message/cpim')).status, 200);
      const bye = await caller;
      assert.equal(bye.code, 0, describeRun(bye));

      await until(() => [...parley.offline.runner.live.values()].some((s) => s.remotePath !== undefined), 'the delivery session answered');
      const [out] = [...parley.offline.runner.live.values()];
      bob.session.setRemote({ path: [out.localUri] });
      assert.equal((await bob.session.connect()).status, 200);
      const run = await uas;
      assert.equal(run.code, 0, run.stderr);
      assert.equal(bob.received.length, 1);
      const cpim = parseCpim(bob.received[0].body);
      assert.ok(!(cpim instanceof Error));
      assert.equal(cpim.body.toString(), 'call me back');
      await until(() => parley.mailbox.mailboxStore.count(BOB) === 0, 'the mailbox emptied');
    }, { offlineGreetings: { 'parley.example': 'Bob is away, write to him' } });
  });

  it('a delivery cut by a restart is retried by the next process and delivers everything once', async () => {
    const dir = tempDir();
    const clock = new SimulatedClock();
    const config = testConfig(dir.path);
    let parley = await startParley(config, clock);
    const client = await new MsrpClient().start();
    const key = sessionDeliveryKey(BOB, ALICE);
    try {
      await aliceWrites(parley, clock, client, 2);
      const uasPort = await freePort();
      // bob's UA answers, but his MSRP client never connects: the run is under way when Parley stops.
      const first = sippAt({ scenario: scenario('offline-user-uas.xml'), port: uasPort, keys: { msrppath: 'msrp://127.0.0.1:9/unused;tcp' } });
      await udpBound(uasPort);
      await register(parley, uasPort);
      await until(() => [...parley.offline.runner.live.values()].some((s) => s.remotePath !== undefined), 'the first run answered');
      await parley.server.stop();
      first.kill(); // its BYE would never come (Parley stopped)
      await first;
      // A stopping server fails the run it cuts (the retry timer is durable); a killed one leaves
      // it `running` and its durable stall timer does the same later (sessionDeliveryModel.test.ts).
      assert.equal((parley.server.supervisor.peek(SESSION_DELIVERY_KIND, key) as { value: unknown } | undefined)?.value, 'waiting');

      parley = await startParley(config, clock);
      const bob = client.session('active');
      const second = sippAt({ scenario: scenario('offline-user-uas.xml'), port: uasPort, keys: { msrppath: bob.session.localUri } });
      await udpBound(uasPort);
      clock.advance(30_000); // the retry, armed before the restart
      await until(() => [...parley.offline.runner.live.values()].some((s) => s.remotePath !== undefined), 'the retried run answered');
      const [out] = [...parley.offline.runner.live.values()];
      bob.session.setRemote({ path: [out.localUri] });
      assert.equal((await bob.session.connect()).status, 200);
      const run = await second;
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(bob.received.map((m) => (parseCpim(m.body) as { body: Buffer }).body.toString()), ['message 1', 'message 2']);
      await until(() => parley.mailbox.mailboxStore.count(BOB) === 0, 'the mailbox emptied');
    } finally {
      await client.close();
      await parley.server.stop();
      dir.remove();
    }
  });

  it('a declined delivery session keeps the messages and is retried after the retry period', async () => {
    await withParley(async ({ parley, clock, client }) => {
      await aliceWrites(parley, clock, client, 2);
      const uasPort = await freePort();
      const declining = sippAt({ scenario: scenario('offline-user-decline.xml'), port: uasPort });
      await udpBound(uasPort);
      await register(parley, uasPort);
      const first = await declining;
      assert.equal(first.code, 0, first.stderr);
      const key = sessionDeliveryKey(BOB, ALICE);
      await until(() => (parley.server.supervisor.peek(SESSION_DELIVERY_KIND, key) as { value?: unknown } | undefined)?.value === 'waiting', 'waiting to retry');
      assert.equal(parley.mailbox.mailboxStore.count(BOB), 2, 'nothing deleted');

      const bob = client.session('active');
      const uas = sippAt({ scenario: scenario('offline-user-uas.xml'), port: uasPort, keys: { msrppath: bob.session.localUri } });
      await udpBound(uasPort);
      clock.advance(30_000); // the retry period (mailbox check_time)
      await until(() => [...parley.offline.runner.live.values()].some((s) => s.remotePath !== undefined), 'the retried session answered');
      const [out] = [...parley.offline.runner.live.values()];
      bob.session.setRemote({ path: [out.localUri] });
      assert.equal((await bob.session.connect()).status, 200);
      const run = await uas;
      assert.equal(run.code, 0, run.stderr);
      assert.equal(bob.received.length, 2);
      await until(() => parley.mailbox.mailboxStore.count(BOB) === 0, 'the mailbox emptied');
    });
  });
});
