/**
 * What the supervisor writes to LMDB per event-loop turn: nothing for an event that changed
 * neither state, context nor timers; one record per changed actor, from its latest state; the
 * timer index difference. And what survives a restart of each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from '../../src/clock.js';
import { roomKind } from '../../src/actors/roomKind.js';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type ActorRecord } from '../../src/actors/store.js';
import { conferenceEvents as ev, type ConferenceContext, type ParticipantInfo } from '../../src/machines/conference.js';
import { createTestRuntime, tempDir, type TestRuntime } from '../helpers/runtime.js';

const ROOM = 'sip:dev@conf.example.com';
const alice: ParticipantInfo = { id: 'd-alice', uri: 'sip:alice@example.com', displayName: 'Alice', dialog: { callId: 'c1' }, session: 's-alice' };
const bob: ParticipantInfo = { id: 'd-bob', uri: 'sip:bob@example.com', dialog: { callId: 'c2' }, session: 's-bob' };

function participants(ctx: unknown): Record<string, { status: string }> {
  return (ctx as ConferenceContext).participants;
}

/** Counts the record puts and the timer index puts the runtime queues, per key. */
function countWrites(rt: TestRuntime): { records: string[]; timers: string[] } {
  const seen = { records: [] as string[], timers: [] as string[] };
  const snapshots = rt.store.snapshots;
  const putRecord = snapshots.put.bind(snapshots);
  snapshots.put = ((key: [string, string], value: ActorRecord) => {
    seen.records.push(key[1]);
    return putRecord(key, value);
  }) as typeof snapshots.put;
  const index = rt.store.timers;
  const putTimer = index.put.bind(index);
  index.put = ((key: [number, string, string, string], value: null) => {
    seen.timers.push(key[3]);
    return putTimer(key, value);
  }) as typeof index.put;
  return seen;
}

test('an event that changes nothing rewrites no record; the actor restarts with its last state', async () => {
  const dir = tempDir();
  const t0 = Date.UTC(2026, 10, 22, 12);
  const rt = createTestRuntime(dir.path, [roomKind()], { clock: new SimulatedClock(t0) });
  try {
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', t0), { create: true });
    await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice'));
    const committed = rt.store.snapshots.get(['room', ROOM]);
    assert.equal(committed?.lastEventAt, t0);
    const writes = countWrites(rt);
    rt.clock.advance(5000);
    // A retransmitted ACK: the machine keeps its context object, arms and cancels nothing.
    assert.equal(await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice')), 'ok');
    assert.deepEqual(writes.records, [], 'no record write');
    assert.deepEqual(rt.store.snapshots.get(['room', ROOM]), committed, 'the committed record is untouched');
    assert.equal(rt.supervisor.peek('room', ROOM)?.lastEventAt, t0 + 5000, 'the resident counts the event');
    await rt.close();
  } catch (err) {
    await rt.close();
    dir.remove();
    throw err;
  }
  const rt2 = createTestRuntime(dir.path, [roomKind()], { clock: new SimulatedClock(t0 + 10_000) });
  try {
    const peeked = rt2.supervisor.peek('room', ROOM);
    assert.equal(peeked?.lastEventAt, t0, 'persisted: time of the last event that changed the record');
    assert.equal(participants(peeked?.context)['d-alice'].status, 'joined');
    assert.equal(await rt2.supervisor.dispatch('room', ROOM, ev.join(bob, 'r2', t0 + 10_000)), 'ok');
    assert.deepEqual(Object.keys(participants(rt2.supervisor.peek('room', ROOM)?.context)).sort(), ['d-alice', 'd-bob']);
  } finally {
    await rt2.close();
    dir.remove();
  }
});

test('the idle sweep counts events that changed nothing: the actor stays resident', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()], { idleMs: 60_000 });
  try {
    const t0 = rt.clock.now();
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', t0), { create: true });
    await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice'));
    rt.clock.advance(50_000);
    await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice')); // changes nothing
    rt.clock.advance(40_000); // sweeps at t0+60s and t0+90s: idle 10 s, then 40 s
    assert.equal(rt.supervisor.isResident('room', ROOM), true);
    assert.equal(rt.store.snapshots.get(['room', ROOM])?.lastEventAt, t0, 'the record kept its time');
    rt.clock.advance(30_000); // sweep at t0+120s: idle 70 s
    assert.equal(rt.supervisor.isResident('room', ROOM), false);
    assert.equal(participants(rt.supervisor.peek('room', ROOM)?.context)['d-alice'].status, 'joined');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('several events to one actor in one turn: one record write from its final state, the net timer changes, and a restart sees them', async () => {
  const dir = tempDir();
  const t0 = Date.UTC(2026, 10, 22, 12);
  const rt = createTestRuntime(dir.path, [roomKind()], { clock: new SimulatedClock(t0) });
  try {
    const writes = countWrites(rt);
    const results = await Promise.all([
      rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', t0), { create: true }),
      rt.supervisor.dispatch('room', ROOM, ev.join(bob, 'r2', t0)),
      rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-bob')),
    ]);
    assert.deepEqual(results, ['ok', 'ok', 'ok']);
    assert.deepEqual(writes.records, [ROOM], 'one record write for three events');
    assert.deepEqual(writes.timers, ['ack:d-alice'], "bob's timer was armed and cancelled within the turn: never written");
    const rec = rt.store.snapshots.get(['room', ROOM]);
    assert.equal(participants(rec?.context)['d-alice'].status, 'expected');
    assert.equal(participants(rec?.context)['d-bob'].status, 'joined');
    assert.deepEqual([...rt.store.timers.getKeys()].map((k) => k[3]), ['ack:d-alice']);
    const kinds = rt.executed.map((e) => e.effect.type).filter((t) => t === 'sip.acceptJoin' || t === 'msrp.notice');
    assert.deepEqual(kinds, ['sip.acceptJoin', 'sip.acceptJoin', 'msrp.notice'], 'effects in event order');
    assert.ok(rt.executed.every((e) => e.committedBefore));
    await rt.close();
  } catch (err) {
    await rt.close();
    dir.remove();
    throw err;
  }
  const rt2 = createTestRuntime(dir.path, [roomKind()], { clock: new SimulatedClock(t0 + 1000) });
  try {
    rt2.clock.advance(4000); // alice's ACK timer, due at t0 + 5 s
    await rt2.store.settled();
    const byes = rt2.executed.filter((e) => e.effect.type === 'sip.bye');
    assert.deepEqual(byes.map((e) => [e.at, (e.effect.dialog as { callId: string }).callId]), [[t0 + 5000, 'c1']]);
    assert.deepEqual(Object.keys(participants(rt2.supervisor.peek('room', ROOM)?.context)), ['d-bob']);
  } finally {
    await rt2.close();
    dir.remove();
  }
});

test('an actor that ends and is created again in the same turn starts afresh', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    const t0 = rt.clock.now();
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', t0), { create: true });
    const [left, joined] = await Promise.all([
      rt.supervisor.dispatch('room', ROOM, ev.left('d-alice', 'bye')), // the ad-hoc room empties and ends
      rt.supervisor.dispatch('room', ROOM, ev.join(bob, 'r2', t0), { create: true }),
    ]);
    assert.deepEqual([left, joined], ['ok', 'ok']);
    assert.deepEqual(Object.keys(participants(rt.supervisor.peek('room', ROOM)?.context)), ['d-bob']);
    assert.deepEqual(Object.keys(participants(rt.store.snapshots.get(['room', ROOM])?.context)), ['d-bob']);
    assert.deepEqual([...rt.store.timers.getKeys()].map((k) => k[3]), ['ack:d-bob']);
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('an event that writes nothing hands its effects out only after the commit of what came before it', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    const t0 = rt.clock.now();
    const results = await Promise.all([
      rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', t0), { create: true }),
      // Not an owner: refused with 403, nothing changes.
      rt.supervisor.dispatch('room', ROOM, ev.kick('sip:mallory@example.com', 'sip:alice@example.com', 'k1')),
    ]);
    assert.deepEqual(results, ['ok', 'ok']);
    const refusal = rt.executed.find((e) => e.effect.type === 'sip.respond' && e.effect.requestRef === 'k1');
    assert.ok(refusal, 'the refusal went out');
    assert.ok(refusal.committedBefore, 'after the record of the JOIN before it was committed');
    assert.ok(rt.executed.findIndex((e) => e.effect.type === 'sip.acceptJoin') < rt.executed.indexOf(refusal), 'in event order');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('a write LMDB refuses fails its own event only: no effect out, the actor reloaded, the rest of the turn committed', async () => {
  const dir = tempDir();
  const { setup, emit, assign } = await import('xstate');
  const storing = setup({ types: { context: {} as { n: number }, events: {} as { type: 'PUT'; key: string } } }).createMachine({
    context: { n: 0 },
    on: { PUT: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit(({ event }) => ({ type: 'store.put', key: event.key })), emit({ type: 'sip.respond' })] } },
  });
  const box = { name: 'box', machine: storing, version: 1, input: () => ({}) };
  const put = (key: string) => ({ type: 'PUT', key }) as { type: string };
  let data: ReturnType<TestRuntime['store']['openDB']> | undefined;
  const rt: TestRuntime = createTestRuntime(dir.path, [box], {
    storeWrites: (e) => [{ db: (data ??= rt.store.openDB('appdata')), key: ['data', String(e.key)], value: 1 }],
  });
  try {
    await rt.supervisor.dispatch('box', 'a', put('ok'), { create: true });
    await rt.supervisor.dispatch('box', 'b', put('ok'), { create: true });
    assert.equal(rt.executed.length, 2);
    const tooLong = 'k'.repeat(3000); // LMDB keys stop at 1978 bytes
    const [a, b] = await Promise.allSettled([
      rt.supervisor.dispatch('box', 'a', put(tooLong)),
      rt.supervisor.dispatch('box', 'b', put('fine')),
    ]);
    assert.equal(a.status, 'rejected');
    assert.deepEqual(b, { status: 'fulfilled', value: 'ok' });
    assert.deepEqual(rt.executed.map((e) => e.actor), ['a', 'b', 'b'], "no effect of a's failed event");
    assert.equal(rt.supervisor.isResident('box', 'a'), false, 'forgotten, reloaded on its next event');
    assert.deepEqual(rt.supervisor.peek('box', 'a')?.context, { n: 1 });
    assert.deepEqual(rt.supervisor.peek('box', 'b')?.context, { n: 2 });
    await rt.supervisor.dispatch('box', 'a', put('ok'));
    assert.deepEqual(rt.supervisor.peek('box', 'a')?.context, { n: 2 }, 'the failed event left no trace in the record');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test("an event's data and record share one transaction even when something else wrote first in the turn", async () => {
  const dir = tempDir();
  const { setup, emit, assign } = await import('xstate');
  const storing = setup({ types: { context: {} as { n: number } } }).createMachine({
    context: { n: 0 },
    on: { PUT: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit({ type: 'store.put' })] } },
  });
  const box = { name: 'box', machine: storing, version: 1, input: () => ({}) };
  let data: ReturnType<TestRuntime['store']['openDB']> | undefined;
  const rt: TestRuntime = createTestRuntime(dir.path, [box], {
    storeWrites: () => [{ db: (data ??= rt.store.openDB('appdata')), key: ['data', 'k'], value: 'stored' }],
  });
  try {
    const other = rt.store.openDB<number, string>('other');
    await other.put('warm', 0);
    let commits = 0;
    rt.store.env.on('aftercommit', () => commits++);
    // lmdb-js closes this turn's transaction in a task queued by this first write, ahead of
    // the supervisor's own end-of-turn task: the record must still join that transaction.
    const foreign = other.put('x', 1);
    const dispatched = rt.supervisor.dispatch('box', 'k', { type: 'PUT' }, { create: true });
    assert.equal(await dispatched, 'ok');
    await foreign;
    assert.equal(commits, 1, 'one transaction for the foreign write, the data and the record');
    assert.equal(data?.get(['data', 'k']), 'stored');
    assert.deepEqual(rt.store.snapshots.get(['box', 'k'])?.context, { n: 1 });
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('an event refused while an earlier event of its actor is still uncommitted leaves the actor with that earlier state', async () => {
  const dir = tempDir();
  const { setup, emit, assign } = await import('xstate');
  const storing = setup({ types: { context: {} as { n: number } } }).createMachine({
    context: { n: 0 },
    on: { PUT: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit(({ event }) => ({ type: 'store.put', key: (event as { key?: string }).key }))] } },
  });
  const box = { name: 'box', machine: storing, version: 1, input: () => ({}) };
  const put = (key: string) => ({ type: 'PUT', key }) as { type: string };
  let data: ReturnType<TestRuntime['store']['openDB']> | undefined;
  const rt: TestRuntime = createTestRuntime(dir.path, [box], {
    storeWrites: (e) => [{ db: (data ??= rt.store.openDB('appdata')), key: ['data', String(e.key)], value: 1 }],
  });
  try {
    await rt.supervisor.dispatch('box', 'a', put('first'), { create: true });
    const [ok, refused, third] = await Promise.allSettled([
      rt.supervisor.dispatch('box', 'a', put('second')),
      rt.supervisor.dispatch('box', 'a', put('k'.repeat(3000))),
      rt.supervisor.dispatch('box', 'a', put('third')), // a reload now would miss the second
    ]);
    assert.deepEqual(ok, { status: 'fulfilled', value: 'ok' });
    assert.equal(refused.status, 'rejected');
    assert.deepEqual(third, { status: 'fulfilled', value: 'ok' });
    assert.deepEqual(rt.supervisor.peek('box', 'a')?.context, { n: 3 });
    assert.deepEqual(rt.store.snapshots.get(['box', 'a'])?.context, { n: 3 }, 'the second event was not lost');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('a data directory whose name has a dot (mktemp: /tmp/tmp.XXXX) is a directory, not a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tmp.parley-'));
  try {
    const store = new Store({ path: dir });
    await store.close();
    assert.ok(statSync(join(dir, 'data.mdb')).isFile());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mark resolves once its transaction is visible; synced resolves only after lmdb-js reports that transaction committed, its fsync included', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-sync-'));
  const store = new Store({ path: dir });
  try {
    // Marks learn of commits from a hook on lmdb-js' write thread (before the sync); an
    // lmdb-js whose internals changed would leave them waiting for the sync, silently.
    assert.equal(store.commitsWatched, true, 'the commit hook is installed');
    const db = store.openDB<string, string>('data');
    for (let round = 0; round < 20; round++) {
      // A steady stream: each turn writes, and the next turn's writes start before the sync.
      let committed = false;
      void db.put(`k${round}`, 'v').then(() => (committed = true));
      assert.equal(await store.mark(), true);
      db.resetReadTxn();
      assert.equal(db.get(`k${round}`), 'v', 'visible once its mark resolved');
      void db.put(`next${round}`, 'v');
      await store.synced();
      assert.ok(committed, `round ${round}: synced before the commit call (sync included) returned`);
    }
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
