/**
 * Model-based tests of the session-delivery machine (one actor per user and original caller):
 * xstate/graph walks DELIVER, run outcomes (current or stale, more or not, failures while the
 * user is online or offline), the retry and stall timers (explicit `fire` events) and restarts.
 * Invariants at every step: at most one run in flight, a run is requested exactly when the
 * actor enters `running`, the stall timer is armed exactly while running and the retry timer
 * exactly while waiting (deadlines in context matching them), results of an abandoned run
 * change nothing, and the actor ends only when nothing is left or it gave up.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromTransition, type AnyMachineSnapshot } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { Stepper } from '../../src/actors/stepper.js';
import { sessionDeliveryEvents as ev, sessionDeliveryMachine, type SessionDeliveryContext, type SessionDeliveryEvent, type SessionDeliveryInput } from '../../src/machines/sessionDelivery.js';
import { replayPath } from '../helpers/modelPaths.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const INPUT: SessionDeliveryInput = { key: 'k', aor: 'sip:bob@parley.example', caller: 'sip:alice@example.com', retryMs: 30_000, stallMs: 120_000, maxAttempts: 2 };
const stepper = new Stepper(sessionDeliveryMachine);

interface World {
  readonly snap: AnyMachineSnapshot | undefined;
  readonly ended: boolean;
  readonly now: number;
  readonly timers: Readonly<Record<string, { due: number; event: SessionDeliveryEvent }>>;
  /** Runs requested (their numbers) and not yet answered. */
  readonly inFlight: readonly number[];
  readonly runs: readonly number[];
  readonly lastAnswer: 'done' | 'more' | 'failed' | 'offline' | null;
}

type WorldEvent =
  | { type: 'deliver' }
  | { type: 'done'; more: boolean }
  | { type: 'fail'; offline: boolean }
  | { type: 'stale' }
  | { type: 'fire'; timer: 'retry' | 'stall' }
  | { type: 'restart' };

const empty = (): World => ({ snap: undefined, ended: false, now: T0, timers: {}, inFlight: [], runs: [], lastAnswer: null });
const ctxOf = (w: World) => w.snap?.context as SessionDeliveryContext | undefined;

function deliver(w0: World, event: SessionDeliveryEvent): World {
  if (w0.ended) return w0;
  let snap = w0.snap;
  let initial: ReturnType<Stepper['step']>[1] = [];
  if (snap === undefined) {
    if (event.type !== 'DELIVER') return w0;
    [snap, initial] = stepper.initial(event.input);
  }
  const [next, actions] = stepper.step(snap, event);
  if (next.status === 'error') throw next.error;
  const timers = { ...w0.timers };
  let { inFlight, runs } = w0;
  for (const a of [...initial, ...actions]) {
    if (a.type === 'xstate.raise' && a.params.delay !== undefined) timers[a.params.id as string] = { due: w0.now + Number(a.params.delay), event: a.params.event as SessionDeliveryEvent };
    else if (a.type === 'xstate.cancel') delete timers[a.params.sendId as string];
    else if (a.type === 'xstate.emit') {
      const e = a.params.event as { type: string; run: number };
      inFlight = [...inFlight, e.run];
      runs = [...runs, e.run];
    }
  }
  if (next.status === 'done') return { ...w0, snap: undefined, ended: true, timers: {}, inFlight, runs };
  return { ...w0, snap: next, timers, inFlight, runs };
}

function step(w: World, e: WorldEvent): World {
  const run = w.inFlight[w.inFlight.length - 1];
  switch (e.type) {
    case 'deliver':
      return deliver(w, ev.deliver(w.now, INPUT));
    case 'done':
      return deliver({ ...w, inFlight: w.inFlight.filter((r) => r !== run), lastAnswer: e.more ? 'more' : 'done' }, ev.runDone(w.now, run, 1, e.more));
    case 'fail':
      return deliver({ ...w, inFlight: w.inFlight.filter((r) => r !== run), lastAnswer: e.offline ? 'offline' : 'failed' }, ev.runFailed(w.now, run, e.offline ? 480 : 603, e.offline, 0));
    case 'stale': {
      // The answer of an abandoned run (its stall timer fired): must change nothing.
      const before = w;
      const after = deliver(w, ev.runDone(w.now, (ctxOf(w)?.run ?? 0) - 1, 1, false));
      assert.deepEqual(after.snap?.value, before.snap?.value, 'a stale result moved the machine');
      assert.deepEqual(after.timers, before.timers, 'a stale result changed the timers');
      return after;
    }
    case 'fire': {
      const t = w.timers[e.timer];
      if (t === undefined) return w;
      const { [e.timer]: _gone, ...rest } = w.timers;
      // A stalled run is abandoned (its answer, if it ever comes, is stale).
      const inFlight = e.timer === 'stall' ? [] : w.inFlight;
      return deliver({ ...w, now: t.due, timers: rest, inFlight }, t.event);
    }
    case 'restart':
      // The run in flight dies with the process; snapshot and timers stay.
      return w.snap === undefined ? { ...w, inFlight: [] } : { ...w, snap: stepper.restore(w.snap.value, w.snap.context), inFlight: [] };
  }
}

function broken(w: World): string | undefined {
  const c = ctxOf(w);
  if (w.inFlight.length > 1) return 'two runs in flight';
  if (new Set(w.runs).size !== w.runs.length) return 'a run number requested twice';
  if (c === undefined) return w.snap === undefined && !w.ended && w.runs.length > 0 ? 'vanished without ending' : undefined;
  const running = w.snap?.matches('running') === true;
  const waiting = w.snap?.matches('waiting') === true;
  if (running !== (w.timers.stall !== undefined)) return 'stall timer not armed exactly while running';
  if (waiting !== (w.timers.retry !== undefined)) return 'retry timer not armed exactly while waiting';
  if (running && c.stallAt !== w.timers.stall?.due) return 'stallAt does not match the stall timer';
  if (waiting && c.retryAt !== w.timers.retry?.due) return 'retryAt does not match the retry timer';
  if (running && w.runs[w.runs.length - 1] !== c.run) return 'running without having requested its run';
  if (c.attempts > c.maxAttempts) return 'more attempts than allowed';
  return undefined;
}

const logic = fromTransition((w: World, e: WorldEvent) => step(w, e), empty());
const EVENTS: WorldEvent[] = [
  { type: 'deliver' },
  { type: 'done', more: false },
  { type: 'done', more: true },
  { type: 'fail', offline: false },
  { type: 'fail', offline: true },
  { type: 'stale' },
  { type: 'fire', timer: 'retry' },
  { type: 'fire', timer: 'stall' },
  { type: 'restart' },
];
const options = {
  events: EVENTS,
  serializeState: (s: { context: World }) => {
    const w = s.context;
    const c = ctxOf(w);
    return [JSON.stringify(w.snap?.value ?? null), w.ended, w.inFlight.length, Object.keys(w.timers).sort().join(','), c?.attempts, c?.rerun, Math.min(w.runs.length, 4)].join('|');
  },
  serializeEvent: (e: WorldEvent) => JSON.stringify(e),
  filterEvents: (s: { context: World }, e: WorldEvent) => {
    const w = s.context;
    if (e.type === 'done' || e.type === 'fail') return w.inFlight.length > 0;
    if (e.type === 'stale') return (ctxOf(w)?.run ?? 0) > 1;
    if (e.type === 'fire') return w.timers[e.timer] !== undefined;
    if (e.type === 'deliver') return w.runs.length < 5;
    return w.snap !== undefined;
  },
};

const replay = (steps: ReadonlyArray<{ event: unknown }>) => replayPath<World, WorldEvent>({ empty, step, broken }, steps);

describe('session delivery machine, model-based', () => {
  it('every shortest path keeps the invariants', () => {
    const paths = getShortestPaths(logic, options as never);
    assert.ok(paths.length > 30, `explored ${paths.length} abstract states`);
    for (const p of paths) replay(p.steps as never);
  });

  it('every simple path keeps the invariants', () => {
    // Bounded harder than the shortest paths: simple paths grow exponentially with the runs.
    const filterEvents = (s: { context: World }, e: WorldEvent) =>
      options.filterEvents(s, e) && e.type !== 'restart' && e.type !== 'stale' && (e.type !== 'deliver' || s.context.runs.length === 0 || s.context.snap?.matches('running') === true) && s.context.runs.length < 3;
    const paths = getSimplePaths(logic, { ...options, filterEvents } as never);
    assert.ok(paths.length > 30, `explored ${paths.length} paths`);
    for (const p of paths) replay(p.steps as never);
  });
});

describe('session delivery machine, scenarios', () => {
  const run = (...events: WorldEvent[]) => events.reduce(step, empty());

  it('one run that delivers everything ends the actor', () => {
    const w = run({ type: 'deliver' }, { type: 'done', more: false });
    assert.ok(w.ended);
    assert.deepEqual(w.runs, [1]);
  });

  it('more to send runs again at once', () => {
    const w = run({ type: 'deliver' }, { type: 'done', more: true });
    assert.deepEqual(w.runs, [1, 2]);
    assert.ok(w.snap?.matches('running'));
  });

  it('a declined run is retried after retryMs, and gives up after maxAttempts', () => {
    let w = run({ type: 'deliver' }, { type: 'fail', offline: false });
    assert.ok(w.snap?.matches('waiting'));
    assert.equal(w.timers.retry?.due, T0 + 30_000);
    w = step(w, { type: 'fire', timer: 'retry' });
    assert.deepEqual(w.runs, [1, 2]);
    w = step(w, { type: 'fail', offline: false });
    assert.ok(w.ended, 'gave up after 2 attempts (until the next registration)');
  });

  it('a user gone offline ends it; a run lost in a restart is retried after the stall timer', () => {
    assert.ok(run({ type: 'deliver' }, { type: 'fail', offline: true }).ended);
    let w = run({ type: 'deliver' }, { type: 'restart' });
    assert.equal(w.timers.stall?.due, T0 + 120_000);
    w = step(step(w, { type: 'fire', timer: 'stall' }), { type: 'fire', timer: 'retry' });
    assert.deepEqual(w.runs, [1, 2]);
  });

  it('a DELIVER during a run asks for another run after it', () => {
    const w = run({ type: 'deliver' }, { type: 'deliver' }, { type: 'done', more: false });
    assert.deepEqual(w.runs, [1, 2]);
  });
});
