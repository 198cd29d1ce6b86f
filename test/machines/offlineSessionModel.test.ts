/**
 * Model-based tests of the offline-session machine: xstate/graph walks it inside its in-memory
 * world (`offlineSessionWorld.ts`) over offer, ACK, MSRP connect, SENDs, mailbox commits,
 * caller BYE, MSRP loss, restarts and the grace timer (an explicit `fire` event: the test model
 * never takes delayed transitions), states serialized by value and bounded counts. Every step
 * of every path keeps the invariants of `brokenInvariant`: greeting once and only when
 * connected, nothing answered 200 that is not in the mailbox, every SEND answered once or
 * pending, the grace deadline exactly offer + 90 s while open, exactly one BYE unless the
 * caller hung up, nothing left armed after the end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromTransition } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { brokenInvariant, ctxOf, emptyWorld, GRACE_MS, step, T0, type World, type WorldEvent } from './offlineSessionWorld.js';

const logic = fromTransition((w: World, e: WorldEvent) => step(w, e), emptyWorld());

const EVENTS: WorldEvent[] = [
  { type: 'offer' },
  { type: 'ack' },
  { type: 'connect' },
  { type: 'send' },
  { type: 'commit' },
  { type: 'bye' },
  { type: 'lost' },
  { type: 'fire' },
  { type: 'restart' },
  { type: 'cancel' },
];

function serialize(w: World): string {
  const c = ctxOf(w);
  return [
    JSON.stringify(w.snap?.value ?? null), w.ended, c?.greeted, c?.acked, c?.stored, w.connected, w.sent.length, w.storing.length, w.lost.length,
    w.mailbox.length, Object.keys(w.timers).join(','), w.callerBye, w.byesSent, w.greetings, w.cancelled,
  ].join('|');
}

const options = {
  events: EVENTS,
  serializeState: (s: { context: World }) => serialize(s.context),
  serializeEvent: (e: WorldEvent) => JSON.stringify(e),
  filterEvents: (s: { context: World }, e: WorldEvent) => {
    const w = s.context;
    switch (e.type) {
      case 'offer':
        return w.offeredAt === null;
      case 'send':
        return w.sent.length < 3 && w.offeredAt !== null;
      case 'commit':
        return w.storing.length > 0;
      case 'connect':
        return w.snap !== undefined && !w.connected;
      case 'lost':
        return w.connected;
      case 'fire':
        return w.timers.grace !== undefined;
      case 'restart':
        return w.lost.length + (w.snap === undefined ? 1 : 0) < 2 && w.offeredAt !== null;
      default:
        return w.offeredAt !== null;
    }
  },
};

function replay(steps: ReadonlyArray<{ event: WorldEvent }>): World {
  let w = emptyWorld();
  const done: WorldEvent[] = [];
  for (const { event } of steps) {
    if ((event as { type: string }).type === 'xstate.init') continue;
    w = step(w, event);
    done.push(event);
    const broken = brokenInvariant(w);
    assert.equal(broken, undefined, `${broken}\npath: ${done.map((e) => e.type).join(' -> ')}`);
  }
  return w;
}

describe('offline session machine, model-based', () => {
  it('every shortest path keeps the invariants', () => {
    const paths = getShortestPaths(logic, options as never);
    assert.ok(paths.length > 100, `explored ${paths.length} abstract states`);
    for (const p of paths) replay(p.steps as never);
  });

  it('every simple path of a short session keeps the invariants', () => {
    const paths = getSimplePaths(logic, {
      ...options,
      filterEvents: (s: { context: World }, e: WorldEvent) => options.filterEvents(s, e) && (e.type !== 'send' || s.context.sent.length < 2) && e.type !== 'restart',
    } as never);
    assert.ok(paths.length > 100, `explored ${paths.length} paths`);
    for (const p of paths) replay(p.steps as never);
  });
});

describe('offline session machine, scenarios', () => {
  const run = (...events: WorldEvent[]) => events.reduce((w, e) => {
    const next = step(w, e);
    assert.equal(brokenInvariant(next), undefined);
    return next;
  }, emptyWorld());

  it('greets once connected, stores what is written, answers 200 only after the mailbox commit, BYEs at 90 s', () => {
    let w = run({ type: 'offer' }, { type: 'ack' });
    assert.equal(w.inviteAnswers, 1);
    assert.equal(w.greetings, 0, 'no greeting before the MSRP connection');
    w = step(w, { type: 'connect' });
    assert.equal(w.greetings, 1);
    w = step(step(w, { type: 'send' }), { type: 'send' });
    assert.deepEqual(w.answers, {}, 'nothing answered before the mailbox committed');
    w = step(step(w, { type: 'commit' }), { type: 'commit' });
    assert.deepEqual(w.answers, { m1: 200, m2: 200 });
    assert.deepEqual(w.mailbox, ['m1', 'm2']);
    w = step(w, { type: 'advance', ms: GRACE_MS - 1 });
    assert.equal(w.byesSent, 0, 'still open at 89.999 s');
    w = step(w, { type: 'advance', ms: 1 });
    assert.equal(w.byesSent, 1, 'BYE at 90 s');
    assert.ok(w.ended);
    assert.equal(w.now, T0 + GRACE_MS);
  });

  it('refuses SENDs beyond the per-session limit with 403', () => {
    const w = run({ type: 'offer' }, { type: 'connect' }, { type: 'send' }, { type: 'send' }, { type: 'send' });
    assert.equal(w.answers.m3, 403);
    assert.deepEqual(w.storing, ['m1', 'm2']);
  });

  it('an early BYE from the caller ends the session without our BYE and cancels the window', () => {
    const w = run({ type: 'offer' }, { type: 'ack' }, { type: 'connect' }, { type: 'send' }, { type: 'commit' }, { type: 'bye' });
    assert.ok(w.ended);
    assert.equal(w.byeAnswers, 1);
    assert.equal(w.byesSent, 0);
    assert.deepEqual(w.timers, {});
    const after = step(w, { type: 'send' });
    assert.equal(after.answers.m2, 481, 'a SEND after the end finds no session');
  });

  it('a restart keeps the window: the BYE still goes out at offer + 90 s', () => {
    let w = run({ type: 'offer' }, { type: 'connect' }, { type: 'send' }, { type: 'commit' }, { type: 'advance', ms: 30_000 }, { type: 'restart' });
    assert.equal(w.timers.grace?.due, T0 + GRACE_MS);
    w = step(w, { type: 'advance', ms: 60_000 });
    assert.equal(w.byesSent, 1);
    assert.deepEqual(w.mailbox, ['m1']);
  });

  it('an INVITE cancelled before the answer went out ends the session without a BYE', () => {
    const w = run({ type: 'offer' }, { type: 'cancel' });
    assert.ok(w.ended);
    assert.equal(w.byesSent, 0);
    assert.equal(w.msrpClosed, 1);
    assert.deepEqual(w.timers, {});
  });

  it('the loss of the MSRP connection ends the session with a BYE', () => {
    const w = run({ type: 'offer' }, { type: 'connect' }, { type: 'lost' });
    assert.ok(w.ended);
    assert.equal(w.byesSent, 1);
    assert.equal(ctxOf(w), undefined);
  });
});
