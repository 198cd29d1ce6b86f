import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomKind } from '../../src/actors/roomKind.js';
import { conferenceEvents as ev, type ConferenceContext, type ParticipantInfo } from '../../src/machines/conference.js';
import type { InspectionRecord } from '../../src/actors/inspection.js';
import { createTestRuntime, tempDir, type TestRuntime } from '../helpers/runtime.js';

const ROOM = 'sip:dev@conf.example.com';
const alice: ParticipantInfo = { id: 'd-alice', uri: 'sip:alice@example.com', displayName: 'Alice', dialog: { callId: 'c1' }, session: 's-alice' };
const bob: ParticipantInfo = { id: 'd-bob', uri: 'sip:bob@example.com', dialog: { callId: 'c2' }, session: 's-bob' };

function participants(ctx: unknown): Record<string, { status: string }> {
  return (ctx as ConferenceContext).participants;
}

test('activates an actor on its first event and lets effects out only after the commit', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    assert.equal(await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', rt.clock.now()), { create: true }), 'ok');
    assert.deepEqual(rt.executed.map((e) => e.effect.type), ['sip.acceptJoin']);
    assert.ok(rt.executed.every((e) => e.committedBefore));
    const rec = rt.store.snapshots.get(['room', ROOM]);
    assert.equal(rec?.value, 'open');
    assert.equal(participants(rec?.context)['d-alice'].status, 'expected');
    assert.ok(rec?.timers['ack:d-alice'], 'the ACK timer is kept in the record');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('answers absent for an event that may not create the actor', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    assert.equal(await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('x')), 'absent');
    assert.equal(rt.store.snapshots.get(['room', ROOM]), undefined);
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('processes events of one actor in order and hands effects out in that order', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    const p1 = rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', 0), { create: true });
    const p2 = rt.supervisor.dispatch('room', ROOM, ev.join(bob, 'r2', 0));
    const p3 = rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice'));
    const p4 = rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-bob'));
    assert.deepEqual(await Promise.all([p1, p2, p3, p4]), ['ok', 'ok', 'ok', 'ok']);
    assert.deepEqual(
      // (each join also replays the room's history: not what this test is about)
      rt.executed.filter((e) => e.effect.type !== 'msrp.replayHistory').map((e) => [e.effect.type, e.effect.requestRef ?? e.effect.text]),
      [
        ['sip.acceptJoin', 'r1'],
        ['sip.acceptJoin', 'r2'],
        ['msrp.notice', 'Alice joined the room'],
        ['msrp.notice', 'sip:bob@example.com joined the room'],
      ],
    );
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('a machine that reaches its final state leaves no snapshot and no timer', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', 0), { create: true });
    await rt.supervisor.dispatch('room', ROOM, ev.left('d-alice', 'bye'));
    assert.equal(rt.store.snapshots.get(['room', ROOM]), undefined);
    assert.equal([...rt.store.timers.getKeys()].length, 0);
    assert.equal(rt.supervisor.isResident('room', ROOM), false);
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('a timer fires at its due time from the injected clock, not before', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    const t0 = rt.clock.now();
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', t0), { create: true });
    await rt.supervisor.dispatch('room', ROOM, ev.join(bob, 'r2', t0));
    await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-bob'));
    rt.clock.advance(4999);
    await settle(rt);
    assert.equal(rt.executed.filter((e) => e.effect.type === 'sip.bye').length, 0);
    rt.clock.advance(1);
    await settle(rt);
    const byes = rt.executed.filter((e) => e.effect.type === 'sip.bye');
    assert.equal(byes.length, 1);
    assert.equal(byes[0].at, t0 + 5000);
    assert.deepEqual(byes[0].effect.dialog, alice.dialog);
    assert.deepEqual(Object.keys(participants(rt.supervisor.peek('room', ROOM)?.context)), ['d-bob']);
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('passivation drops idle actors from memory and reactivation restores their state', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()], { idleMs: 60_000 });
  try {
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', 0), { create: true });
    await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice'));
    rt.clock.advance(60_000);
    assert.equal(rt.supervisor.isResident('room', ROOM), false, 'passivated by the periodic sweep');
    await rt.supervisor.dispatch('room', ROOM, ev.join(bob, 'r2', rt.clock.now()));
    assert.equal(rt.supervisor.isResident('room', ROOM), true);
    const ps = participants(rt.supervisor.peek('room', ROOM)?.context);
    assert.equal(ps['d-alice'].status, 'joined');
    assert.equal(ps['d-bob'].status, 'expected');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('a passivated actor is woken by its due timer', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind({ ackTimeoutMs: 120_000 })], { idleMs: 10_000 });
  try {
    const t0 = rt.clock.now();
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', t0), { create: true });
    rt.clock.advance(20_000);
    assert.equal(rt.supervisor.isResident('room', ROOM), false);
    rt.clock.advance(100_000);
    await settle(rt);
    const bye = rt.executed.find((e) => e.effect.type === 'sip.bye');
    assert.equal(bye?.at, t0 + 120_000);
    assert.equal(rt.store.snapshots.get(['room', ROOM]), undefined, 'the emptied ad-hoc room ended');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('timers survive a restart: overdue ones fire at once, others at their due time', async () => {
  const dir = tempDir();
  const t0 = Date.UTC(2026, 10, 22, 12);
  const rt1 = createTestRuntime(dir.path, [roomKind()], { clock: new (await import('../../src/clock.js')).SimulatedClock(t0) });
  await rt1.supervisor.dispatch('room', 'sip:a@conf', ev.join(alice, 'r1', t0), { create: true });
  rt1.clock.advance(2000);
  await rt1.supervisor.dispatch('room', 'sip:b@conf', ev.join(bob, 'r2', t0 + 2000), { create: true });
  await rt1.close();

  const { SimulatedClock } = await import('../../src/clock.js');
  const rt2 = createTestRuntime(dir.path, [roomKind()], { clock: new SimulatedClock(t0 + 6000) });
  try {
    rt2.clock.advance(0); // the overdue timer was armed with a zero wait
    await settle(rt2);
    assert.deepEqual(rt2.executed.map((e) => [e.actor, e.effect.type, e.at]).filter(([, t]) => t === 'sip.bye'), [['sip:a@conf', 'sip.bye', t0 + 6000]]);
    rt2.clock.advance(999);
    await settle(rt2);
    assert.equal(rt2.executed.filter((e) => e.actor === 'sip:b@conf').length, 0);
    rt2.clock.advance(1);
    await settle(rt2);
    assert.deepEqual(rt2.executed.filter((e) => e.actor === 'sip:b@conf' && e.effect.type === 'sip.bye').map((e) => e.at), [t0 + 7000]);
  } finally {
    await rt2.close();
    dir.remove();
  }
});

test('a throwing machine yields failed and leaves the actor and the supervisor working', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    await rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', 0), { create: true });
    // A JOIN whose participant is missing makes the admit action throw.
    const bad = { type: 'JOIN', participant: undefined, requestRef: 'r9', at: 0 } as never;
    assert.equal(await rt.supervisor.dispatch('room', ROOM, bad), 'failed');
    assert.equal(await rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice')), 'ok');
    assert.equal(participants(rt.supervisor.peek('room', ROOM)?.context)['d-alice'].status, 'joined');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('a store effect that cannot be prepared fails the event: nothing written, no effect out, state reloaded', async () => {
  const dir = tempDir();
  const { setup, emit, assign } = await import('xstate');
  const storing = setup({ types: { context: {} as { n: number } } }).createMachine({
    context: { n: 0 },
    on: { PUT: { actions: [assign({ n: ({ context }) => context.n + 1 }), emit({ type: 'store.put' }), emit({ type: 'sip.respond' })] } },
  });
  let refuse = false;
  const box = { name: 'box', machine: storing, version: 1, input: () => ({}) };
  const rt = createTestRuntime(dir.path, [box], {
    storeWrites: () => {
      if (refuse) throw new Error('disk on fire');
      return [{ db: rt.store.snapshots, key: ['data', 'k'], value: { v: 1, machineVersion: 0, value: 'x', context: {}, timers: {}, lastEventAt: 0 } }];
    },
  });
  try {
    await rt.supervisor.dispatch('box', 'k', { type: 'PUT' }, { create: true });
    assert.equal(rt.executed.length, 1);
    refuse = true;
    await assert.rejects(rt.supervisor.dispatch('box', 'k', { type: 'PUT' }), /disk on fire/);
    assert.equal(rt.executed.length, 1, 'no effect of the failed event went out');
    assert.equal(rt.supervisor.isResident('box', 'k'), false);
    refuse = false;
    await rt.supervisor.dispatch('box', 'k', { type: 'PUT' });
    assert.deepEqual(rt.supervisor.peek('box', 'k')?.context, { n: 2 }, 'the failed event left no trace');
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('the inspection stream reports lifecycle, events and timers, and a slow subscriber only loses records', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()]);
  try {
    const seen: InspectionRecord[] = [];
    rt.supervisor.inspection.subscribe((r) => seen.push(r));
    const tiny = rt.supervisor.inspection.subscribe(() => undefined, 2);
    // Published synchronously while the commits are in flight: the tiny queue overflows.
    await Promise.all([
      rt.supervisor.dispatch('room', ROOM, ev.join(alice, 'r1', 0), { create: true }),
      rt.supervisor.dispatch('room', ROOM, ev.ackReceived('d-alice')),
    ]);
    await settle(rt);
    assert.deepEqual(seen.map((r) => r.type), ['actor.created', 'actor.event', 'timer.armed', 'actor.event', 'timer.cancelled']);
    const first = seen[1];
    assert.ok(first.type === 'actor.event' && first.before.value === 'idle' && first.after.value === 'open');
    assert.equal(tiny.dropped, 3);
  } finally {
    await rt.close();
    dir.remove();
  }
});

test('10,000 actors are activated, passivated and reactivated with their state', async () => {
  const dir = tempDir();
  const rt = createTestRuntime(dir.path, [roomKind()], { idleMs: 1000 });
  try {
    const N = 10_000;
    const t0 = rt.clock.now();
    await Promise.all(Array.from({ length: N }, (_, i) => rt.supervisor.dispatch('room', `sip:r${i}@conf`, ev.join({ ...alice, id: `d${i}` }, `q${i}`, t0), { create: true })));
    assert.equal(rt.supervisor.residentCount, N);
    rt.supervisor.passivateIdle(t0 + 1000);
    assert.equal(rt.supervisor.residentCount, 0);
    await Promise.all(Array.from({ length: N }, (_, i) => rt.supervisor.dispatch('room', `sip:r${i}@conf`, ev.ackReceived(`d${i}`))));
    assert.equal(rt.supervisor.residentCount, N);
    for (let i = 0; i < N; i += 997) {
      assert.equal(participants(rt.supervisor.peek('room', `sip:r${i}@conf`)?.context)[`d${i}`].status, 'joined');
    }
    assert.equal([...rt.store.timers.getKeys()].length, 0, 'every ACK cancelled its timer');
  } finally {
    await rt.close();
    dir.remove();
  }
});

/** Waits for the commits the last clock step caused and for their effects (no fixed sleep). */
async function settle(rt: TestRuntime): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await rt.store.settled();
    await new Promise((r) => setImmediate(r));
  }
}
