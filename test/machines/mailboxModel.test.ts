/**
 * Model-based tests: xstate/graph walks the mailbox machine inside its in-memory world
 * (`fromTransition` over `worldFor`), with timeouts as explicit events (`fire`) and states
 * serialized by value (state value, counts, flags, armed timers: never the growing counters),
 * bounded to at most 3 stored messages. Every step of every path must keep the invariants of
 * `brokenInvariant` (count = stored rows, no 2xx'd message delivered again or kept, window
 * bounded, every deadline in context matching an armed timer, a sweep armed while anything is
 * stored, the mailbox stopped only when empty).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromTransition } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { createMailboxMachine } from '../../src/machines/mailbox.js';
import { defaultMailboxConfig } from '../../src/machines/mailboxTypes.js';
import { brokenInvariant, ctxOf, emptyWorld, worldFor, type World, type WorldEvent } from './mailboxWorld.js';

const cfg = { ...defaultMailboxConfig, maxInFlight: 2, batchSize: 2, maxMessages: 3, expireTimeMs: 600_000 };
const world = worldFor(createMailboxMachine(cfg));
const logic = fromTransition((w: World, e: WorldEvent) => world.step(w, e), emptyWorld());

const EVENTS: WorldEvent[] = [
  { type: 'store' },
  { type: 'store', sendAfter: 60_000 },
  { type: 'store', key: 'dup' },
  { type: 'online' },
  { type: 'offline' },
  { type: 'reply', status: 200 },
  { type: 'reply', status: 500 },
  { type: 'fire', timer: 'check' },
  { type: 'fire', timer: 'sweep' },
  { type: 'fire', timer: 'reminder' },
  { type: 'fire', timer: 'stall' },
  { type: 'admin-delete' },
];

/** The abstract state: what decides behaviour, not the history (bounded state space). */
function serialize(w: World): string {
  const c = ctxOf(w);
  const msgs = Object.values(w.db)
    .map((m) => `${m.sendAt !== undefined && m.sendAt > w.now ? 'R' : 'M'}${m.expiresAt <= w.now ? 'x' : ''}`)
    .sort()
    .join('');
  if (c === undefined) return `none|${msgs}|${w.userOnline}`;
  const timers = Object.keys(w.timers).sort().join(',');
  const pass = c.pass ? `${c.pass.loading ? 'L' : ''}${c.pass.exhausted ? 'E' : ''}q${c.pass.queue.length}f${Math.min(c.pass.failed, 1)}${c.pass.rerun ? 'r' : ''}` : '-';
  return [JSON.stringify(w.snap?.value), msgs, c.inflight.length, w.awaiting.length, pass, c.sweeping, timers, w.userOnline, c.recentKeys.includes('dup')].join('|');
}

const options = {
  events: EVENTS,
  serializeState: (s: { context: World }) => serialize(s.context),
  serializeEvent: (e: WorldEvent) => JSON.stringify(e),
  // Bound the space: at most 3 messages (the quota) and a few stores in all.
  filterEvents: (s: { context: World }, e: WorldEvent) => {
    const w = s.context;
    if (e.type === 'store') return w.requests < 5;
    if (e.type === 'reply') return w.awaiting.length > 0;
    if (e.type === 'fire') return w.timers[e.timer] !== undefined;
    return true;
  },
};

function replay(steps: ReadonlyArray<{ event: WorldEvent }>): void {
  let w = emptyWorld();
  const done: WorldEvent[] = [];
  for (const { event } of steps) {
    if ((event as { type: string }).type === 'xstate.init') continue;
    w = world.step(w, event);
    done.push(event);
    const broken = brokenInvariant(w, cfg.maxInFlight);
    assert.equal(broken, undefined, `${broken}\npath: ${done.map((e) => JSON.stringify(e)).join(' -> ')}`);
    // Every store request is answered exactly once.
    assert.equal(w.responses.length, w.requests, `unanswered store\npath: ${done.map((e) => JSON.stringify(e)).join(' -> ')}`);
  }
}

test('every shortest path through the mailbox keeps the invariants', () => {
  const paths = getShortestPaths(logic, options as never);
  assert.ok(paths.length > 200, `explored ${paths.length} abstract states`);
  for (const p of paths) replay(p.steps as never);
  // The walk reaches the interesting places.
  const keys = paths.map((p) => serialize((p.state as { context: World }).context));
  for (const want of ['"offline"', '{"online":"delivering"}', '{"online":"idle"}', 'none|']) {
    assert.ok(keys.some((k) => k.startsWith(want)), `some path reaches ${want}`);
  }
  assert.ok(paths.some((p) => (p.state as { context: World }).context.responses.some((r) => r[1] === 486)), 'quota refusal reached');
  assert.ok(paths.some((p) => (p.state as { context: World }).context.stats.dumped_reminders), 'a reminder delivered');
});

test('every simple path to a stopped mailbox after a failed delivery keeps the invariants', () => {
  // Simple paths explode combinatorially: start from a state with one failed delivery, online.
  let w = emptyWorld();
  for (const e of [{ type: 'store' }, { type: 'store' }, { type: 'online' }, { type: 'reply', status: 500 }] as WorldEvent[]) w = world.step(w, e);
  const from = logic.getInitialSnapshot(null as never, undefined);
  const paths = getSimplePaths(logic, {
    ...options,
    fromState: { ...from, context: w } as never,
    events: [
      { type: 'online' },
      { type: 'offline' },
      { type: 'reply', status: 200 },
      { type: 'reply', status: 500 },
      { type: 'fire', timer: 'check' },
      { type: 'fire', timer: 'stall' },
    ] as WorldEvent[],
    toState: (s: { context: World }) => s.context.snap === undefined,
  } as never);
  assert.ok(paths.length > 10, `${paths.length} paths`);
  const prefix: WorldEvent[] = [{ type: 'store' }, { type: 'store' }, { type: 'online' }, { type: 'reply', status: 500 }];
  for (const p of paths) {
    replay([...prefix.map((event) => ({ event })), ...(p.steps as unknown as Array<{ event: WorldEvent }>)]);
    const end = (p.state as { context: World }).context;
    assert.equal(end.snap, undefined);
    assert.equal(Object.keys(end.db).length, 0);
  }
});
