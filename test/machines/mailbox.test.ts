import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMailboxMachine } from '../../src/machines/mailbox.js';
import { defaultMailboxConfig, type MailboxConfig } from '../../src/machines/mailboxTypes.js';
import { brokenInvariant, ctxOf, emptyWorld, worldFor, type World, type WorldEvent } from './mailboxWorld.js';

function setupWorld(cfg: Partial<MailboxConfig> = {}) {
  const config = { ...defaultMailboxConfig, ...cfg };
  const { step } = worldFor(createMailboxMachine(config));
  return (w: World, ...events: WorldEvent[]): World => {
    for (const e of events) {
      w = step(w, e);
      const broken = brokenInvariant(w, config.maxInFlight);
      assert.equal(broken, undefined, `after ${JSON.stringify(e)}: ${broken}`);
    }
    return w;
  };
}
const storeN = (n: number): WorldEvent[] => Array.from({ length: n }, () => ({ type: 'store' }) as const);
const replies = (n: number, status = 200): WorldEvent[] => Array.from({ length: n }, () => ({ type: 'reply', status }) as const);

test('stores a message for an offline user and answers 202 with it', () => {
  const run = setupWorld();
  const w = run(emptyWorld(), { type: 'store' });
  assert.deepEqual(w.responses, [['r1', 202]]);
  assert.equal(ctxOf(w)?.count, 1);
  assert.equal(w.snap?.value, 'offline');
  assert.equal(Object.values(w.db)[0].body.toString(), 'hello 1');
  assert.equal(Object.values(w.db)[0].expiresAt, w.now + 259_200_000, 'msilo expire_time 72 h');
  assert.deepEqual(w.stats, { stored_messages: 1 });
  assert.deepEqual(w.sent, []);
});

test('stores a re-sent MESSAGE (same dedup key) once and answers 202 again', () => {
  const run = setupWorld();
  const w = run(emptyWorld(), { type: 'store', key: 'same' }, { type: 'store', key: 'same' });
  assert.deepEqual(w.responses.map((r) => r[1]), [202, 202]);
  assert.equal(Object.keys(w.db).length, 1);
  assert.deepEqual(w.stats, { stored_messages: 1 });
});

test('refuses a message beyond max_messages with 486 Mailbox Full and evicts nothing', () => {
  const run = setupWorld({ maxMessages: 2 });
  const w = run(emptyWorld(), ...storeN(3));
  assert.deepEqual(w.responses.map((r) => r[1]), [202, 202, 486]);
  assert.equal(w.effects.find((e) => e.type === 'mailbox.respond' && e.status === 486)?.type, 'mailbox.respond');
  assert.deepEqual(Object.keys(w.db).map(Number), [1, 2]);
});

test('max_messages 0 means unlimited', () => {
  const run = setupWorld({ maxMessages: 0 });
  const w = run(emptyWorld(), ...storeN(30));
  assert.equal(Object.keys(w.db).length, 30);
});

test('delivers every message in order on registration, deletes on 2xx, then stops', () => {
  const run = setupWorld({ maxInFlight: 3, batchSize: 4 });
  let w = run(emptyWorld(), ...storeN(10), { type: 'online' });
  assert.deepEqual(w.sent, [1, 2, 3], 'paced: three in flight');
  w = run(w, ...replies(10));
  assert.deepEqual(w.sent, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(w.ok, w.sent);
  assert.equal(w.snap, undefined, 'final state: no snapshot');
  assert.deepEqual(w.stats, { stored_messages: 10, dumped_messages: 10 });
  assert.equal(w.maxInflightSeen, 3);
});

test('a failed delivery is retried after check_time while online, not before', () => {
  const run = setupWorld();
  let w = run(emptyWorld(), ...storeN(2), { type: 'online' }, { type: 'reply', status: 500 }, { type: 'reply', status: 200 });
  assert.deepEqual(w.sent, [1, 2]);
  assert.equal(ctxOf(w)?.checkAt, w.now + 30_000);
  w = run(w, { type: 'advance', ms: 29_999 });
  assert.deepEqual(w.sent, [1, 2]);
  w = run(w, { type: 'advance', ms: 1 });
  assert.deepEqual(w.sent, [1, 2, 1]);
  w = run(w, { type: 'reply', status: 200 });
  assert.equal(w.snap, undefined);
  assert.deepEqual(w.stats, { stored_messages: 2, dumped_messages: 2, failed_messages: 1 });
});

test('no retry while offline; the pass stops sending when the user goes offline', () => {
  const run = setupWorld({ maxInFlight: 2 });
  let w = run(emptyWorld(), ...storeN(5), { type: 'online' }, { type: 'reply', status: 200 }, { type: 'offline' });
  assert.deepEqual(w.sent, [1, 2, 3]);
  w = run(w, { type: 'reply', status: 200 }, { type: 'reply', status: 408 });
  assert.deepEqual(w.sent, [1, 2, 3], 'nothing new sent while offline');
  w = run(w, { type: 'advance', ms: 3_600_000 });
  assert.deepEqual(w.sent, [1, 2, 3]);
  assert.equal(ctxOf(w)?.count, 3);
  w = run(w, { type: 'online' }, ...replies(3));
  assert.deepEqual(w.sent, [1, 2, 3, 3, 4, 5]);
  assert.equal(w.snap, undefined);
});

test('expired messages are removed by the sweep and the empty mailbox stops', () => {
  const run = setupWorld({ expireTimeMs: 3_600_000 });
  let w = run(emptyWorld(), ...storeN(3));
  assert.equal(ctxOf(w)?.sweepAt, w.now + 3_600_000);
  w = run(w, { type: 'advance', ms: 3_599_999 });
  assert.equal(Object.keys(w.db).length, 3);
  w = run(w, { type: 'advance', ms: 1 });
  assert.equal(Object.keys(w.db).length, 0);
  assert.equal(w.snap, undefined);
  assert.deepEqual(w.sent, []);
});

test('the sweep runs at most once per clean_period x check_time', () => {
  const run = setupWorld({ expireTimeMs: 1000 });
  const w = run(emptyWorld(), { type: 'store' });
  assert.equal(ctxOf(w)?.sweepAt, w.now + 150_000, '5 x 30 s');
});

test('a reminder is delivered at its send time and not before, counted as a reminder', () => {
  const run = setupWorld();
  let w = run(emptyWorld(), { type: 'online' }, { type: 'store', sendAfter: 600_000 });
  assert.equal(ctxOf(w)?.reminderAt, w.now + 600_000);
  w = run(w, { type: 'advance', ms: 30_000 });
  assert.deepEqual(w.sent, [], 'the periodic check does not send a reminder early');
  w = run(w, { type: 'advance', ms: 569_999 });
  assert.deepEqual(w.sent, []);
  w = run(w, { type: 'advance', ms: 1 });
  assert.deepEqual(w.sent, [1]);
  w = run(w, { type: 'reply', status: 200 });
  assert.deepEqual(w.stats, { stored_messages: 1, dumped_reminders: 1 });
  assert.equal(w.snap, undefined);
});

test('a reminder due while offline waits for the registration', () => {
  const run = setupWorld();
  let w = run(emptyWorld(), { type: 'store', sendAfter: 60_000 }, { type: 'advance', ms: 120_000 });
  assert.deepEqual(w.sent, []);
  w = run(w, { type: 'online' });
  assert.deepEqual(w.sent, [1]);
});

test('a reminder not yet due is skipped by a registration pass and re-armed', () => {
  const run = setupWorld();
  let w = run(emptyWorld(), { type: 'store', sendAfter: 600_000 }, { type: 'store' }, { type: 'online' });
  assert.deepEqual(w.sent, [2]);
  w = run(w, { type: 'reply', status: 200 });
  assert.equal(ctxOf(w)?.reminderAt, w.now + 600_000);
  w = run(w, { type: 'advance', ms: 600_000 });
  assert.deepEqual(w.sent, [2, 1]);
});

test('deliveries whose answers are lost (restart) count as failed after the stall time and are retried', () => {
  const run = setupWorld();
  let w = run(emptyWorld(), ...storeN(2), { type: 'online' });
  assert.deepEqual(w.sent, [1, 2]);
  w = run(w, { type: 'fire', timer: 'stall' });
  assert.deepEqual(w.stats, { stored_messages: 2, failed_messages: 2 });
  assert.equal(ctxOf(w)?.inflight.length, 0);
  w = run(w, { type: 'fire', timer: 'check' });
  assert.deepEqual(w.sent, [1, 2, 1, 2]);
});

test('an administrator delete of an in-flight message drops it; its late answer is ignored', () => {
  const run = setupWorld();
  let w = run(emptyWorld(), ...storeN(2), { type: 'online' }, { type: 'admin-delete' });
  assert.equal(ctxOf(w)?.count, 1);
  w = run(w, ...replies(2));
  assert.equal(w.snap, undefined);
  assert.deepEqual(w.stats, { stored_messages: 2, dumped_messages: 1 });
});

test('a mailbox with a subscriber does not stop when emptied', () => {
  const run = setupWorld();
  let w = run(emptyWorld(), { type: 'subscribe' }, { type: 'store' }, { type: 'online' }, { type: 'reply', status: 200 });
  assert.equal(ctxOf(w)?.count, 0);
  assert.notEqual(w.snap, undefined);
  w = run(w, { type: 'unsubscribe' });
  assert.equal(w.snap, undefined);
});

test('2,000 stored messages are delivered paced, with a small context', () => {
  const run = setupWorld({ maxInFlight: 10, batchSize: 50 });
  let w = run(emptyWorld(), ...storeN(2_000));
  assert.ok(JSON.stringify(w.snap?.context).length < 1500, 'context holds no bodies');
  w = run(w, { type: 'online' }, ...replies(2_000));
  assert.equal(w.sent.length, 2_000);
  assert.deepEqual(w.sent.slice(0, 3), [1, 2, 3]);
  assert.ok(w.sent.every((s, i) => s === i + 1), 'in order');
  assert.equal(w.maxInflightSeen, 10);
  assert.equal(w.snap, undefined);
});
