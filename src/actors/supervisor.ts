/**
 * The supervisor: routes domain events to root actors kept in a plain Map (never children
 * of one machine: spawning is O(N^2), PACKAGES.md), activates them from LMDB on their first
 * event, commits each event's snapshot and data in one transaction, and only then lets the
 * effects out.
 *
 * Every actor is its persisted snapshot plus pure steps of its machine (`Stepper`, xstate's
 * `transition()` without its per-call actor): there is no live interpreter, so nothing can be lost by a restore (delayed events come back from
 * `transition` as data and become durable timers) and an idle resident actor costs only its
 * snapshot object. Processing an event is synchronous up to the commit, which gives "one
 * event at a time per actor" for free; LMDB commits in order, so effects go out in order.
 */
import type { AnyMachineSnapshot, EventObject } from 'xstate';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { ActorKind } from './kind.js';
import { isStoreEffect, type ActorRef, type Effect, type EffectHandlers } from './effects.js';
import { InspectionStream, type StateView } from './inspection.js';
import { Store, type ActorRecord, type TimerEntry, type Write } from './store.js';
import { Stepper, type StepAction } from './stepper.js';
import { TimerScheduler } from './timerScheduler.js';

export interface SupervisorOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly kinds: readonly ActorKind[];
  readonly effects: EffectHandlers;
  /** Resident actors idle this long are passivated (dropped from memory). Default 5 min. */
  readonly idleMs?: number;
  /** At most this many resident actors; the least recently used are passivated first. Default 200,000. */
  readonly maxResident?: number;
  readonly inspection?: InspectionStream;
}

/** Outcome of `dispatch`. */
export type DispatchResult =
  /** The event was processed and its snapshot committed; effects have been handed out. */
  | 'ok'
  /** No such actor and the event may not create one (e.g. SUBSCRIBE to an unknown room). */
  | 'absent'
  /** The machine threw on this event: nothing changed, the error was logged. */
  | 'failed';

interface Resident {
  readonly kind: ActorKind;
  readonly stepper: Stepper;
  readonly key: string;
  snapshot: AnyMachineSnapshot;
  timers: Record<string, TimerEntry>;
  lastEventAt: number;
  /** Commits not yet resolved: the actor may not be passivated before they are. */
  inflight: number;
  ref: ActorRef | undefined;
}

const idOf = (kind: string, key: string) => `${kind}\u0000${key}`;

export class Supervisor {
  readonly inspection: InspectionStream;
  private readonly resident = new Map<string, Resident>();
  private readonly kinds = new Map<string, { kind: ActorKind; stepper: Stepper }>();
  /** Entry actions of newly created actors, carried out with their first event's commit. */
  private readonly pendingInitial = new Map<Resident, StepAction[]>();
  private readonly scheduler: TimerScheduler;
  private readonly idleMs: number;
  private readonly maxResident: number;
  private sweepHandle: TimerHandle | undefined;
  private accepting = true;
  private anonTimer = 0;

  constructor(private readonly opts: SupervisorOptions) {
    for (const k of opts.kinds) this.kinds.set(k.name, { kind: k, stepper: new Stepper(k.machine) });
    this.inspection = opts.inspection ?? new InspectionStream();
    this.idleMs = opts.idleMs ?? 300_000;
    this.maxResident = opts.maxResident ?? 200_000;
    this.scheduler = new TimerScheduler(opts.store, opts.clock, (kind, key, id, due) => this.fireTimer(kind, key, id, due));
  }

  /** Arms persisted timers (overdue ones fire at once) and the passivation sweep. */
  start(): void {
    this.accepting = true;
    this.scheduler.start();
    this.scheduleSweep();
  }

  /** Number of actors in memory. */
  get residentCount(): number {
    return this.resident.size;
  }

  /** True when the actor is in memory (not passivated). */
  isResident(kind: string, key: string): boolean {
    return this.resident.has(idOf(kind, key));
  }

  /** The actor's current state, from memory or LMDB, without activating it. */
  peek(kind: string, key: string): { value: unknown; context: unknown; timers: Record<string, TimerEntry>; lastEventAt: number } | undefined {
    const r = this.resident.get(idOf(kind, key));
    if (r) return { value: r.snapshot.value, context: r.snapshot.context, timers: r.timers, lastEventAt: r.lastEventAt };
    const rec = this.opts.store.snapshots.get([kind, key]);
    return rec && { value: rec.value, context: rec.context, timers: rec.timers, lastEventAt: rec.lastEventAt };
  }

  /**
   * Delivers `event` to the actor `kind`/`key`, creating it when it does not exist and
   * `create` is true. Resolves once the event's snapshot and data are committed and its
   * effects handed to the executor; rejects when the commit failed (then no effect went out
   * and the actor is reloaded from its last committed state on its next event).
   */
  dispatch(kind: string, key: string, event: EventObject, opts: { create?: boolean } = {}): Promise<DispatchResult> {
    if (!this.accepting) return Promise.reject(new Error('supervisor is stopping'));
    const actor = this.activate(kind, key, opts.create === true, event);
    if (actor === undefined) return Promise.resolve('absent');
    return this.process(actor, event, undefined);
  }

  /**
   * Removes an actor and everything the runtime keeps for it (snapshot and timers), for
   * administrative deletes. Application data is the caller's to delete in `extraWrites`.
   */
  async purge(kind: string, key: string, extraWrites?: readonly Write[]): Promise<boolean> {
    const id = idOf(kind, key);
    const r = this.resident.get(id);
    const rec = r ? undefined : this.opts.store.snapshots.get([kind, key]);
    const timers = r ? r.timers : rec?.timers;
    if (timers === undefined && extraWrites === undefined) return false;
    this.resident.delete(id);
    const store = this.opts.store;
    await store.commit(() => {
      store.snapshots.removeSync([kind, key]);
      for (const [tid, t] of Object.entries(timers ?? {})) store.timers.removeSync([t.due, kind, key, tid]);
      Store.apply(extraWrites ?? []);
    });
    this.publish(() => ({ type: 'actor.stopped', kind, key, at: this.opts.clock.now(), reason: 'purged' }));
    return timers !== undefined;
  }

  /** Stops taking events, waits for every commit in flight, stops timers. */
  async stop(): Promise<void> {
    this.accepting = false;
    this.scheduler.stop();
    if (this.sweepHandle) this.opts.clock.clearTimeout(this.sweepHandle);
    await this.opts.store.settled();
  }

  /** Passivates every resident actor idle for at least `idleMs` (also run periodically). */
  passivateIdle(now = this.opts.clock.now()): number {
    let n = 0;
    for (const [id, r] of this.resident) {
      if (now - r.lastEventAt < this.idleMs || r.inflight > 0) continue;
      this.resident.delete(id);
      n++;
      this.publish(() => ({ type: 'actor.passivated', kind: r.kind.name, key: r.key, at: now }));
    }
    return n;
  }

  /** Iterates persisted actors (for admin listings and the visualizer), in key order. */
  *listPersisted(opts: { kind?: string; after?: readonly [string, string]; limit?: number } = {}): Generator<{ kind: string; key: string; record: ActorRecord }> {
    const start = opts.after ? [opts.after[0], opts.after[1] + '\u0000'] : opts.kind ? [opts.kind] : undefined;
    const end = opts.kind ? [opts.kind + '\u0000'] : undefined;
    for (const { key, value } of this.opts.store.snapshots.getRange({ start: start as never, end: end as never, limit: opts.limit })) {
      yield { kind: key[0], key: key[1], record: value };
    }
  }

  private activate(kindName: string, key: string, create: boolean, event: EventObject): Resident | undefined {
    const id = idOf(kindName, key);
    // Not re-inserted to keep the Map in LRU order: a delete+set per event on a large Map
    // made activation the hottest function of bench/runtime.ts (V8 compacts it often).
    const existing = this.resident.get(id);
    if (existing) return existing;
    const known = this.kinds.get(kindName);
    if (known === undefined) throw new Error(`unknown actor kind ${kindName}`);
    const { kind, stepper } = known;
    const now = this.opts.clock.now();
    let record = this.opts.store.snapshots.get([kindName, key]);
    if (record && record.machineVersion !== kind.version) {
      const migrated = kind.migrate?.(record);
      if (migrated === undefined) {
        this.opts.logger.warn({ actor: kindName, key, version: record.machineVersion }, 'snapshot of an unknown machine version ignored');
      }
      record = migrated;
    }
    let r: Resident;
    if (record) {
      const snapshot = stepper.restore(record.value, record.context);
      r = { kind, stepper, key, snapshot, timers: { ...record.timers }, lastEventAt: record.lastEventAt, inflight: 0, ref: undefined };
    } else {
      if (!create) return undefined;
      const [snapshot, actions] = stepper.initial(kind.input(key, event));
      r = { kind, stepper, key, snapshot, timers: {}, lastEventAt: now, inflight: 0, ref: undefined };
      if (actions.length > 0) this.pendingInitial.set(r, actions);
    }
    this.resident.set(id, r);
    this.publish(() => ({ type: 'actor.created', kind: kindName, key, at: now, restored: record !== undefined, state: view(r.snapshot) }));
    if (this.resident.size > this.maxResident) this.evictOldest();
    return r;
  }

  /** Over the cap: passivate in activation order (the Map's order), skipping busy actors. */
  private evictOldest(): void {
    for (const [id, r] of this.resident) {
      if (this.resident.size <= this.maxResident) return;
      if (r.inflight > 0) continue;
      this.resident.delete(id);
      this.publish(() => ({ type: 'actor.passivated', kind: r.kind.name, key: r.key, at: this.opts.clock.now() }));
    }
  }

  private fireTimer(kind: string, key: string, timerId: string, due: number): void {
    const store = this.opts.store;
    const actor = this.activate(kind, key, false, { type: 'timer' });
    const entry = actor?.timers[timerId];
    if (actor === undefined || entry === undefined || entry.due !== due) {
      // Cancelled or superseded: its index entry is stale (its delete may still be in flight).
      void store.commit(() => void store.timers.removeSync([due, kind, key, timerId]));
      return;
    }
    const now = this.opts.clock.now();
    this.publish(() => ({ type: 'timer.fired', kind, key, at: now, timerId, due }));
    this.process(actor, entry.event, timerId).catch((err: unknown) => {
      this.opts.logger.error({ actor: kind, key, timerId, err }, 'timer event not committed');
    });
  }

  private process(r: Resident, event: EventObject, firedTimer: string | undefined): Promise<DispatchResult> {
    const { store, clock } = this.opts;
    const kind = r.kind.name;
    const now = clock.now();
    const before = r.snapshot;
    let next: AnyMachineSnapshot;
    let actions: StepAction[];
    try {
      [next, actions] = r.stepper.step(before, event);
    } catch (err) {
      this.refOf(r).logger.error({ err, event: event.type }, 'machine threw; event dropped');
      this.publish(() => ({ type: 'actor.error', kind, key: r.key, at: now, event, error: String(err) }));
      return Promise.resolve('failed');
    }
    if (next.status === 'error') {
      this.refOf(r).logger.error({ err: next.error, event: event.type }, 'machine error; event dropped');
      this.publish(() => ({ type: 'actor.error', kind, key: r.key, at: now, event, error: String(next.error) }));
      return Promise.resolve('failed');
    }

    const initial = this.pendingInitial.get(r);
    if (initial) {
      this.pendingInitial.delete(r);
      actions = [...initial, ...actions];
    }
    const timers = { ...r.timers };
    const added: Array<[string, TimerEntry]> = [];
    const removed: Array<[string, TimerEntry]> = [];
    if (firedTimer !== undefined) {
      removed.push([firedTimer, timers[firedTimer]]);
      delete timers[firedTimer];
    }
    const effects: Effect[] = [];
    for (const a of actions) {
      if (a.type === 'xstate.emit') effects.push(a.params.event as Effect);
      else if (a.type === 'xstate.raise' && a.params.delay !== undefined) {
        const id = a.params.id ?? `anon.${++this.anonTimer}`;
        if (timers[id]) removed.push([id, timers[id]]);
        const t: TimerEntry = { due: now + Number(a.params.delay), event: a.params.event as TimerEntry['event'] };
        timers[id] = t;
        added.push([id, t]);
      } else if (a.type === 'xstate.cancel') {
        const id = a.params.sendId as string;
        if (timers[id]) {
          removed.push([id, timers[id]]);
          delete timers[id];
        }
      }
    }

    const done = next.status === 'done';
    const ref = this.refOf(r);
    const outEffects: Effect[] = [];
    const writes: Write[] = [];
    try {
      for (const e of effects) {
        if (isStoreEffect(e)) writes.push(...this.opts.effects.storeWrites(e, ref));
        else outEffects.push(e);
      }
    } catch (err) {
      ref.logger.error({ err, event: event.type }, 'store effect refused; event not committed');
      this.resident.delete(idOf(kind, r.key));
      return Promise.reject(err);
    }
    // An event that changed neither state nor context nor timers (a room relaying a chat
    // message: only effects and store writes) keeps the committed record as it is: rewriting
    // a 100-participant room's snapshot per message would be most of the cost of a relay.
    // The record's lastEventAt then lags; it only feeds listings and the idle sweep uses memory.
    const unchanged =
      !done && initial === undefined && added.length === 0 && removed.length === 0 && next.context === before.context && sameValue(next.value, before.value);
    const commit = store.commit(() => {
      for (const [id, t] of removed) store.timers.removeSync([t.due, kind, r.key, id]);
      if (unchanged) {
        // nothing to rewrite
      } else if (done) {
        store.snapshots.removeSync([kind, r.key]);
        for (const [id, t] of Object.entries(timers)) store.timers.removeSync([t.due, kind, r.key, id]);
      } else {
        const record: ActorRecord = { v: 1, machineVersion: r.kind.version, value: next.value, context: next.context, timers, lastEventAt: now };
        store.snapshots.putSync([kind, r.key], record);
        for (const [id, t] of added) store.timers.putSync([t.due, kind, r.key, id], null);
      }
      Store.apply(writes);
    });

    r.snapshot = next;
    r.timers = done ? {} : timers;
    r.lastEventAt = now;
    r.inflight++;
    if (done) this.resident.delete(idOf(kind, r.key));
    if (this.inspection.active) {
      this.publish(() => ({ type: 'actor.event', kind, key: r.key, at: now, event, before: view(before), after: view(next), effects }));
      for (const [id] of removed) if (!timers[id] && id !== firedTimer) this.publish(() => ({ type: 'timer.cancelled', kind, key: r.key, at: now, timerId: id }));
      if (!done) for (const [id, t] of added) this.publish(() => ({ type: 'timer.armed', kind, key: r.key, at: now, timerId: id, due: t.due }));
      if (done) this.publish(() => ({ type: 'actor.stopped', kind, key: r.key, at: now, reason: 'done' }));
    }

    const result = commit.then(
      () => {
        r.inflight--;
        if (!done) for (const [, t] of added) this.scheduler.noteArmed(t.due);
        for (const e of outEffects) {
          try {
            this.opts.effects.execute(e, ref);
          } catch (err) {
            ref.logger.error({ err, effect: e.type }, 'effect failed');
          }
        }
        return 'ok' as const;
      },
      (err: unknown) => {
        r.inflight--;
        // The in-memory state ran ahead of the disk: forget it, reload on the next event.
        this.resident.delete(idOf(kind, r.key));
        ref.logger.error({ err, event: event.type }, 'commit failed; effects withheld');
        throw err;
      },
    );
    return result;
  }

  private refOf(r: Resident): ActorRef {
    r.ref ??= { kind: r.kind.name, key: r.key, logger: this.opts.logger.child({ actor: r.kind.name, key: r.key }) };
    return r.ref;
  }

  private scheduleSweep(): void {
    const every = Math.max(1000, Math.floor(this.idleMs / 2));
    this.sweepHandle = this.opts.clock.setTimeout(() => {
      this.passivateIdle();
      if (this.accepting) this.scheduleSweep();
    }, every);
  }

  private publish(make: () => Parameters<InspectionStream['publish']>[0]): void {
    if (this.inspection.active) this.inspection.publish(make());
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && typeof b === 'object' && JSON.stringify(a) === JSON.stringify(b));
}

function view(s: AnyMachineSnapshot): StateView {
  return { value: s.value, status: s.status, context: s.context };
}
