/**
 * The batched events (STORE_MESSAGES, DELIVERY_RESULTS) decide exactly what the same items
 * decide one event each: same context, same stored messages and answers, same counters (summed
 * into one `store.addStats`), one timer per id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyMachineSnapshot } from 'xstate';
import { Stepper, type StepAction } from '../../src/actors/stepper.js';
import { createMailboxMachine } from '../../src/machines/mailbox.js';
import type { IncomingMessage, MailboxEffect } from '../../src/machines/mailboxEffects.js';
import { defaultMailboxConfig, mailboxEvents as ev, type MailboxContext, type MailboxEvent, type StoreItem } from '../../src/machines/mailboxTypes.js';

const AOR = 'sip:bob@parley.example';
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const config = { ...defaultMailboxConfig, maxMessages: 4, maxInFlight: 3, batchSize: 10 };

const message = (n: number): IncomingMessage => ({
  ruri: AOR, from: '<sip:alice@example.com>', to: `<${AOR}>`, contentType: 'text/plain', body: Buffer.from(`m${n}`), callId: `c${n}`, cseq: 1,
});
const item = (n: number, key = `k${n}`): StoreItem => ({ requestRef: `r${n}`, online: false, message: message(n), dedupKeys: [key] });

/** Steps `events` from a fresh mailbox; returns the snapshot and every action, in order. */
function run(events: MailboxEvent[], from?: AnyMachineSnapshot) {
  const stepper = new Stepper(createMailboxMachine(config));
  let snap = from;
  const actions: StepAction[] = [];
  for (const e of events) {
    let acts: StepAction[];
    if (snap === undefined) {
      const [s0, a0] = stepper.initial({ aor: AOR, online: false });
      [snap, acts] = stepper.step(s0, e);
      acts = [...a0, ...acts];
    } else [snap, acts] = stepper.step(snap, e);
    actions.push(...acts);
  }
  return { snap: snap as AnyMachineSnapshot, actions };
}
const emitted = (actions: StepAction[]) => actions.filter((a) => a.type === 'xstate.emit').map((a) => a.params.event as MailboxEffect);
const without = (effects: MailboxEffect[], type: string) => effects.filter((e) => e.type !== type);
function statsOf(effects: MailboxEffect[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const e of effects) if (e.type === 'store.addStats') for (const [k, v] of Object.entries(e.delta)) sum[k] = (sum[k] ?? 0) + (v ?? 0);
  return sum;
}
const timerIds = (actions: StepAction[]) => actions.filter((a) => a.type === 'xstate.raise' && a.params.delay !== undefined).map((a) => String(a.params.id));

test('STORE_MESSAGES stores, refuses over quota and answers exactly as one STORE_MESSAGE each', () => {
  const items = [item(1), item(2), item(3), item(4), item(5)]; // quota 4: the fifth is refused
  const single = run(items.map((i) => ev.store(T0, i.message, i.dedupKeys, i.online, i.requestRef)));
  const batch = run([ev.storeMany(T0, items)]);
  assert.deepEqual(batch.snap.value, single.snap.value);
  assert.deepEqual(batch.snap.context, single.snap.context);
  const e1 = emitted(single.actions);
  const e2 = emitted(batch.actions);
  assert.deepEqual(without(e2, 'store.addStats'), without(e1, 'store.addStats'));
  assert.deepEqual(statsOf(e2), statsOf(e1));
  assert.equal(e2.filter((e) => e.type === 'store.addStats').length, 1, 'one counter write for the batch');
  assert.deepEqual(
    e2.filter((e) => e.type === 'mailbox.respond').map((e) => [e.requestRef, e.status]),
    [['r1', 202], ['r2', 202], ['r3', 202], ['r4', 202], ['r5', 486]],
  );
  const ids = timerIds(batch.actions);
  assert.equal(new Set(ids).size, ids.length, 'each timer armed once per step');
});

test('a MESSAGE re-sent inside one batch is stored once and answered 202 twice', () => {
  const { snap, actions } = run([ev.storeMany(T0, [item(1, 'same'), item(2, 'same'), item(3)])]);
  assert.equal((snap.context as MailboxContext).count, 2);
  const effects = emitted(actions);
  assert.deepEqual(effects.filter((e) => e.type === 'store.putMessage').map((e) => String(e.message.body)), ['m1', 'm3']);
  assert.deepEqual(effects.filter((e) => e.type === 'mailbox.respond').map((e) => [e.requestRef, e.status]), [['r1', 202], ['r2', 202], ['r3', 202]]);
});

test('DELIVERY_RESULTS takes answers exactly as one DELIVERY_RESULT each, refilling the window', () => {
  // Three stored, bob online, the pass read them and sent all three (window 3).
  const stored = run([ev.storeMany(T0, [item(1), item(2), item(3)]), ev.online(T0 + 1)]);
  const load = emitted(stored.actions).find((e) => e.type === 'mailbox.loadBatch');
  assert.ok(load, 'the pass reads a batch');
  const loaded = run([ev.batchLoaded(T0 + 2, 0, [1, 2, 3].map((seq) => ({ seq, expiresAt: T0 + 1e9 })), true)], stored.snap);
  assert.deepEqual(emitted(loaded.actions).filter((e) => e.type === 'mailbox.deliver').map((e) => e.seq), [1, 2, 3]);

  const outcomes = [{ seq: 1, status: 200 }, { seq: 2, status: 500 }, { seq: 3, status: 200 }];
  const single = run(outcomes.map((o) => ev.deliveryResult(T0 + 3, o.seq, o.status)), loaded.snap);
  const batch = run([ev.deliveryResults(T0 + 3, outcomes)], loaded.snap);
  assert.deepEqual(batch.snap.value, single.snap.value);
  assert.deepEqual(batch.snap.context, single.snap.context);
  const e1 = emitted(single.actions);
  const e2 = emitted(batch.actions);
  assert.deepEqual(without(e2, 'store.addStats'), without(e1, 'store.addStats'));
  assert.deepEqual(statsOf(e2), { dumped_messages: 2, failed_messages: 1 });
  assert.deepEqual(statsOf(e2), statsOf(e1));
  const ctx = batch.snap.context as MailboxContext;
  assert.equal(ctx.count, 1, 'the refused one is kept for a retry');
  assert.deepEqual(ctx.inflight, []);
  assert.ok(ctx.checkAt !== null, 'retry armed after check_time');
  const ids = timerIds(batch.actions);
  assert.equal(new Set(ids).size, ids.length, 'each timer armed once per step');
  assert.equal(ctx.stallAt, null, 'nothing awaited: no stall timer');
  assert.ok(!ids.includes('stall'), 'a stall timer armed then disarmed in one step is not armed');
});

test('a pass reads ahead when less than a window is queued: the window never waits for a read', () => {
  // Window 3, batches of 10: 12 stored.
  const items = Array.from({ length: 12 }, (_, i) => item(i + 1));
  const big = { ...config, maxMessages: 0 };
  const stepper = new Stepper(createMailboxMachine(big));
  const [s0] = stepper.initial({ aor: AOR, online: false });
  let [snap, acts] = stepper.step(s0, ev.storeMany(T0, items));
  [snap, acts] = stepper.step(snap, ev.online(T0 + 1));
  assert.deepEqual(emitted(acts).filter((e) => e.type === 'mailbox.loadBatch').map((e) => e.after), [0]);
  const entries = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ({ seq: from + i, expiresAt: T0 + 1e9 }));
  [snap, acts] = stepper.step(snap, ev.batchLoaded(T0 + 2, 0, entries(1, 10), false));
  assert.deepEqual(emitted(acts).filter((e) => e.type === 'mailbox.deliver').map((e) => e.seq), [1, 2, 3]);
  [snap, acts] = stepper.step(snap, ev.deliveryResults(T0 + 3, [1, 2, 3].map((seq) => ({ seq, status: 200 }))));
  assert.deepEqual(emitted(acts).filter((e) => e.type === 'mailbox.loadBatch'), [], '4 queued: no read yet');
  [snap, acts] = stepper.step(snap, ev.deliveryResults(T0 + 4, [4, 5, 6].map((seq) => ({ seq, status: 200 }))));
  const effects = emitted(acts);
  assert.deepEqual(effects.filter((e) => e.type === 'mailbox.deliver').map((e) => e.seq), [7, 8, 9]);
  assert.deepEqual(effects.filter((e) => e.type === 'mailbox.loadBatch').map((e) => e.after), [10], 'one queued: read the next batch now');
  [snap, acts] = stepper.step(snap, ev.batchLoaded(T0 + 5, 10, entries(11, 12), true));
  [snap, acts] = stepper.step(snap, ev.deliveryResults(T0 + 6, [7, 8, 9].map((seq) => ({ seq, status: 200 }))));
  assert.deepEqual(emitted(acts).filter((e) => e.type === 'mailbox.deliver').map((e) => e.seq), [10, 11, 12], 'in order, each once');
  [snap] = stepper.step(snap, ev.deliveryResults(T0 + 7, [10, 11, 12].map((seq) => ({ seq, status: 200 }))));
  assert.equal(snap.status, 'done', 'all delivered: the mailbox stops');
});
