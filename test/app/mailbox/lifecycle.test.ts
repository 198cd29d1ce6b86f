/**
 * Issue 6's remaining cases on the real runtime (Supervisor, LMDB, SimulatedClock) with a fake
 * SipTransport: a burst of MESSAGEs in one turn (stored as one batch) keeps the quota and
 * duplicate rules; a reminder's timer survives a restart and fires at its time, not before,
 * in both send-time forms; the quota counts what was stored before a restart; a store that
 * cannot be committed answers 500 and leaves nothing behind, and the re-sent MESSAGE is then
 * stored once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from '../../../src/clock.js';
import { listMailbox, mailboxStats } from '../../../src/app/mailbox/admin.js';
import { tempDir } from '../../helpers/runtime.js';
import { BOB, FakeSip, incoming, settle, setup } from './world.js';

const bodies = (sip: FakeSip) => sip.sent.map((r) => String(r.body));

/** msilo's YYYYMMDDHHMMSS (UTC) form of a time. */
const msiloTime = (t: number) => new Date(t).toISOString().replace(/[-:T]/g, '').slice(0, 14);

test('a burst in one turn is stored in order as one batch: quota and re-sends as one by one', async () => {
  const dir = tempDir();
  const s = setup(dir.path, { clock: new SimulatedClock(), config: { maxMessages: 4 } });
  try {
    // All handled synchronously: they reach the mailbox together.
    const burst = [incoming(1), incoming(2), incoming(3, { callId: 'call-2' }), incoming(4), incoming(5), incoming(6)];
    for (const m of burst) s.app.handle(m.req);
    await Promise.all(burst.map((m) => m.answered));
    assert.deepEqual(burst.map((m) => m.statuses[0]), [202, 202, 202, 202, 202, 486], 'the re-send of call-2 is a 202, not a slot');
    const view = listMailbox(s.admin, BOB);
    assert.deepEqual(view.messages.map((m) => m.preview), ['message 1', 'message 2', 'message 4', 'message 5']);
    assert.equal(mailboxStats(s.admin).stored_messages, 4);
  } finally {
    await s.close();
    dir.remove();
  }
});

test("a reminder's timer survives a restart and fires at its send time, not before", async () => {
  const dir = tempDir();
  const clock = new SimulatedClock();
  let s = setup(dir.path, { clock });
  const at = clock.now() + 3_600_000;
  s.register();
  const m = incoming(1, { headers: [{ name: 'x-parley-send-at', value: new Date(at).toISOString() }] });
  s.app.handle(m.req);
  await m.answered;
  assert.deepEqual(m.statuses, [202]);
  await settle(s);
  assert.equal(s.sip.sent.length, 0, 'not before its time');
  await s.close();

  s = setup(dir.path, { clock });
  try {
    s.contacts.set(BOB, [{ uri: 'sip:bob@127.0.0.1:5080', path: [] }]); // still registered: no new registration after the restart
    clock.advance(at - clock.now() - 1);
    await settle(s);
    assert.equal(s.sip.sent.length, 0, 'not a millisecond early');
    clock.advance(1);
    await settle(s);
    assert.deepEqual(bodies(s.sip), ['message 1']);
    assert.equal(mailboxStats(s.admin).dumped_reminders, 1);
    assert.equal(listMailbox(s.admin, BOB).count, 0);
  } finally {
    await s.close();
    dir.remove();
  }
});

test("msilo's YYYYMMDDHHMMSS send time: held across a registration, delivered at that second", async () => {
  const dir = tempDir();
  const clock = new SimulatedClock();
  const s = setup(dir.path, { clock });
  try {
    const due = Math.ceil((clock.now() + 7_200_000) / 1000) * 1000; // a whole second, 2 h ahead
    const m = incoming(1, { headers: [{ name: 'x-parley-send-at', value: msiloTime(due) }] });
    s.app.handle(m.req);
    await m.answered;
    assert.deepEqual(m.statuses, [202]);
    s.register(); // online before the time: the pass skips it
    await settle(s);
    assert.equal(s.sip.sent.length, 0);
    clock.advance(due - clock.now() - 1000);
    await settle(s);
    assert.equal(s.sip.sent.length, 0, 'not a second early');
    clock.advance(1000);
    await settle(s);
    assert.deepEqual(bodies(s.sip), ['message 1']);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('the quota counts what was stored before a restart; nothing older is evicted', async () => {
  const dir = tempDir();
  const clock = new SimulatedClock();
  let s = setup(dir.path, { clock, config: { maxMessages: 3 } });
  for (let i = 1; i <= 3; i++) {
    const m = incoming(i);
    s.app.handle(m.req);
    await m.answered;
  }
  await s.close();
  s = setup(dir.path, { clock, config: { maxMessages: 3 } });
  try {
    const m = incoming(4);
    s.app.handle(m.req);
    await m.answered;
    assert.deepEqual(m.statuses, [486]);
    assert.deepEqual(listMailbox(s.admin, BOB).messages.map((x) => x.preview), ['message 1', 'message 2', 'message 3']);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('a store that cannot be committed answers 500 and leaves nothing; the re-sent MESSAGE is stored once', async () => {
  const dir = tempDir();
  const s = setup(dir.path, { clock: new SimulatedClock() });
  try {
    const first = incoming(1);
    s.app.handle(first.req);
    await first.answered;
    s.refuse = true;
    const failed = incoming(2);
    s.app.handle(failed.req);
    await failed.answered;
    assert.deepEqual(failed.statuses, [500]);
    await settle(s);
    assert.deepEqual(listMailbox(s.admin, BOB).messages.map((x) => x.preview), ['message 1'], 'nothing half-written');
    assert.equal(mailboxStats(s.admin).stored_messages, 1);
    s.refuse = false;
    const again = incoming(2); // the sender's retry: same Call-ID and CSeq
    s.app.handle(again.req);
    await again.answered;
    assert.deepEqual(again.statuses, [202], 'not mistaken for a duplicate of the refused one');
    const twice = incoming(2);
    s.app.handle(twice.req);
    await twice.answered;
    assert.deepEqual(twice.statuses, [202]);
    assert.deepEqual(listMailbox(s.admin, BOB).messages.map((x) => x.preview), ['message 1', 'message 2']);
    s.register();
    await settle(s);
    assert.deepEqual(bodies(s.sip), ['message 1', 'message 2'], 'delivered once each');
  } finally {
    await s.close();
    dir.remove();
  }
});
