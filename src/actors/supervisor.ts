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
 *
 * Writes: every event of one event-loop turn goes into one LMDB transaction, as lmdb-js
 * asynchronous single operations (its write thread does the B-tree work). Application data
 * is queued as each event is processed; each changed actor's record and timer index entries
 * are queued once, from its latest state, at the end of the turn (`Turn`, `flush`); an event
 * that changed nothing of the record writes nothing. Effects go out after the commit.
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
  timers: Readonly<Record<string, TimerEntry>>;
  /** The timers as last queued to the `timers` index (the flush writes the difference). */
  indexed: Readonly<Record<string, TimerEntry>>;
  /** Time of the last event processed, whether or not it rewrote the record (idle sweep). */
  lastEventAt: number;
  /** Commits not yet resolved: the actor may not be passivated before they are. */
  inflight: number;
  /** The record in LMDB is missing (new actor) or stale (migrated): the next event writes it. */
  dirty: boolean;
  /** What the current turn's flush writes for this actor. */
  pending: Pending;
  ref: ActorRef | undefined;
}

const enum Pending {
  None,
  /** Rewrite the record (and the timer index difference) from the resident's state. */
  Put,
  /** The machine reached its final state: delete the record and every timer entry. */
  Remove,
}

/**
 * The events processed in one event-loop turn. Their application data is queued as they are
 * processed; the records and timer index entries of the actors they changed are queued once
 * per actor at the end of the turn (`flush`), from each actor's latest state: an actor that
 * took several events in the turn is encoded and written once, and the intermediate states,
 * which no reader could have seen (they would all have been in the same transaction), are
 * never written. Everything queued in the turn lands in one LMDB transaction; once it is
 * committed, the turn's effects go out in event order and every `dispatch` of the turn, which
 * all return `result`, resolves.
 */
interface Turn {
  /** Flat triples: resident, effects to perform (or undefined), earliest armed due (or Infinity). */
  readonly items: Array<Resident | Effect[] | number | undefined>;
  /** Actors whose record or timers the flush writes, in first-change order. */
  readonly changed: Resident[];
  readonly result: Promise<DispatchResult>;
  resolve(r: DispatchResult): void;
  reject(err: unknown): void;
  flushed: boolean;
  /** Something was written in the turn: the flush queues a commit mark (`Store.mark`). */
  wrote: boolean;
}

/** The `ActorRef` handed to effect handlers; its child logger is made on first use only. */
class ResidentRef implements ActorRef {
  private log: Logger | undefined;
  constructor(
    readonly kind: string,
    readonly key: string,
    private readonly parent: Logger,
  ) {}
  get logger(): Logger {
    return (this.log ??= this.parent.child({ actor: this.kind, key: this.key }));
  }
}

const NO_TIMERS: Readonly<Record<string, TimerEntry>> = Object.freeze({});
const COMMITTED: Promise<unknown> = Promise.resolve(true);

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
  /** The turn being processed (see `Turn`), until its flush. */
  private turn: Turn | undefined;
  /** The turn flushed last, until its effects are out. */
  private lastTurn: Turn | undefined;
  /** Commit promise of the last write the supervisor queued. */
  private lastCommit: Promise<unknown> = COMMITTED;
  /** Actors that reached their final state, until their record's removal is committed. */
  private readonly ending = new Map<string, Resident>();
  private anonTimer = 0;

  constructor(private readonly opts: SupervisorOptions) {
    for (const k of opts.kinds) this.kinds.set(k.name, { kind: k, stepper: new Stepper(k.machine) });
    this.inspection = opts.inspection ?? new InspectionStream();
    this.idleMs = opts.idleMs ?? 300_000;
    this.maxResident = opts.maxResident ?? 200_000;
    this.scheduler = new TimerScheduler(opts.store, opts.clock, (kind, key, id, due) => this.fireTimer(kind, key, id, due));
    // The flush runs before lmdb-js closes a turn's transaction when something else wrote in
    // the turn first (its task was queued before ours), so the turn's writes stay together.
    opts.store.env.on('beforecommit', () => {
      if (this.turn) this.flush(this.turn);
    });
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
    // A resident's index entries are those last queued; its pending flush is cancelled.
    const timers = r ? r.indexed : rec?.timers;
    if (timers === undefined && extraWrites === undefined) return false;
    this.resident.delete(id);
    if (r) {
      r.pending = Pending.None;
      r.timers = r.indexed = NO_TIMERS;
    }
    const store = this.opts.store;
    // Single asynchronous writes like every event's, so they keep their order with them.
    if (extraWrites) Store.issue(extraWrites);
    let p: Promise<unknown> = store.snapshots.remove([kind, key]);
    for (const [tid, t] of Object.entries(timers ?? {})) p = store.timers.remove([t.due, kind, key, tid]);
    await p;
    this.publish(() => ({ type: 'actor.stopped', kind, key, at: this.opts.clock.now(), reason: 'purged' }));
    return timers !== undefined;
  }

  /** Stops taking events, waits for every commit in flight, stops timers. */
  async stop(): Promise<void> {
    this.accepting = false;
    this.scheduler.stop();
    if (this.sweepHandle) this.opts.clock.clearTimeout(this.sweepHandle);
    if (this.turn) this.flush(this.turn);
    await this.opts.store.settled();
    await this.lastTurn?.result.catch(() => undefined);
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
    // A record whose removal is not committed yet belongs to an actor that ended.
    let record = this.ending.has(id) ? undefined : this.opts.store.snapshots.get([kindName, key]);
    let stale = false;
    if (record && record.machineVersion !== kind.version) {
      stale = true;
      const migrated = kind.migrate?.(record);
      if (migrated === undefined) {
        this.opts.logger.warn({ actor: kindName, key, version: record.machineVersion }, 'snapshot of an unknown machine version ignored');
      }
      record = migrated;
    }
    let r: Resident;
    if (record) {
      const snapshot = stepper.restore(record.value, record.context);
      const timers = { ...record.timers };
      r = { kind, stepper, key, snapshot, timers, indexed: timers, lastEventAt: record.lastEventAt, inflight: 0, dirty: stale, pending: Pending.None, ref: undefined };
    } else {
      if (!create) return undefined;
      const [snapshot, actions] = stepper.initial(kind.input(key, event));
      r = { kind, stepper, key, snapshot, timers: NO_TIMERS, indexed: NO_TIMERS, lastEventAt: now, inflight: 0, dirty: true, pending: Pending.None, ref: undefined };
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
      store.timers.remove([due, kind, key, timerId]).catch((err: unknown) => this.opts.logger.error({ err }, 'stale timer entry not removed'));
      return;
    }
    const now = this.opts.clock.now();
    this.publish(() => ({ type: 'timer.fired', kind, key, at: now, timerId, due }));
    this.process(actor, entry.event, timerId).catch((err: unknown) => {
      this.opts.logger.error({ actor: kind, key, timerId, err }, 'timer event not committed');
    });
  }

  /**
   * One event: a pure step of the machine; its application data queued for this turn's LMDB
   * transaction; the actor marked for the turn's flush when its record or timers changed; its
   * effects handed out once that transaction is committed (see `Turn`).
   */
  private process(r: Resident, event: EventObject, firedTimer: string | undefined): Promise<DispatchResult> {
    const kind = r.kind.name;
    const now = this.opts.clock.now();
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

    if (r.dirty) {
      const initial = this.pendingInitial.get(r);
      if (initial) {
        this.pendingInitial.delete(r);
        actions = initial.concat(actions);
      }
    }
    // Timers: copied on the first change only (most events arm or cancel nothing).
    const oldTimers = r.timers;
    let timers = oldTimers;
    let timersChanged = false;
    if (firedTimer !== undefined && timers[firedTimer] !== undefined) {
      timers = { ...timers };
      delete (timers as Record<string, TimerEntry>)[firedTimer];
      timersChanged = true;
    }
    let effects: Effect[] | undefined;
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i];
      if (a.type === 'xstate.emit') (effects ??= []).push(a.params.event as Effect);
      else if (a.type === 'xstate.raise' && a.params.delay !== undefined) {
        if (!timersChanged) {
          timers = { ...timers };
          timersChanged = true;
        }
        const id = a.params.id ?? `anon.${++this.anonTimer}`;
        (timers as Record<string, TimerEntry>)[id] = { due: now + Number(a.params.delay), event: a.params.event as TimerEntry['event'] };
      } else if (a.type === 'xstate.cancel') {
        const id = a.params.sendId as string;
        if (timers[id] !== undefined) {
          if (!timersChanged) {
            timers = { ...timers };
            timersChanged = true;
          }
          delete (timers as Record<string, TimerEntry>)[id];
        }
      }
    }

    const done = next.status === 'done';
    let outEffects: Effect[] | undefined;
    let writes: Write[] | undefined;
    if (effects !== undefined) {
      const ref = this.refOf(r);
      try {
        for (const e of effects) {
          if (isStoreEffect(e)) (writes ??= []).push(...this.opts.effects.storeWrites(e, ref));
          else (outEffects ??= []).push(e);
        }
      } catch (err) {
        ref.logger.error({ err, event: event.type }, 'store effect refused; event not committed');
        this.forgetFailed(r);
        return Promise.reject(err);
      }
    }

    // The turn must exist (its flush task queued) before anything is written in it.
    const turn = this.turn ?? this.openTurn();
    if (writes !== undefined) {
      turn.wrote = true;
      try {
        this.lastCommit = Store.issue(writes) ?? this.lastCommit;
      } catch (err) {
        // A write lmdb-js refused (a key over 1978 bytes): the writes of this event queued
        // before it stay queued (lmdb-js cannot take them back). The actor is reloaded from
        // LMDB on its next event; no effect of this event goes out; its record is not written.
        this.refOf(r).logger.error({ err, event: event.type }, 'write refused by LMDB; event not committed, effects withheld');
        this.forgetFailed(r);
        return Promise.reject(err);
      }
    }

    // An event that changed neither state nor context nor timers (a room relaying a chat
    // message: only effects and store writes; a retransmitted request) keeps the committed
    // record as it is: rewriting a big room's snapshot per message would be most of the cost
    // of a relay. The record's lastEventAt is then the time of the last event that changed
    // it; the idle sweep reads the resident's, which every event updates.
    const unchanged = !done && !r.dirty && !timersChanged && next.context === before.context && sameValue(next.value, before.value);
    if (!unchanged) {
      if (r.pending === Pending.None) turn.changed.push(r);
      r.pending = done ? Pending.Remove : Pending.Put;
    }
    let armedDue = Infinity;
    if (timersChanged && !done) {
      for (const id in timers) {
        const t = timers[id];
        if (oldTimers[id] !== t && t.due < armedDue) armedDue = t.due;
      }
    }

    r.snapshot = next;
    r.timers = done ? NO_TIMERS : timers;
    r.lastEventAt = now;
    r.dirty = false;
    r.inflight++;
    if (done) {
      const id = idOf(kind, r.key);
      this.resident.delete(id);
      this.ending.set(id, r);
    }
    if (this.inspection.active) {
      this.publish(() => ({ type: 'actor.event', kind, key: r.key, at: now, event, before: view(before), after: view(next), effects: effects ?? [] }));
      if (timersChanged || done) {
        for (const id in oldTimers) {
          if (id !== firedTimer && timers[id] !== oldTimers[id] && (done || timers[id] === undefined)) {
            this.publish(() => ({ type: 'timer.cancelled', kind, key: r.key, at: now, timerId: id }));
          }
        }
        if (!done) {
          for (const id in timers) {
            const t = timers[id];
            if (oldTimers[id] !== t) this.publish(() => ({ type: 'timer.armed', kind, key: r.key, at: now, timerId: id, due: t.due }));
          }
        }
      }
      if (done) this.publish(() => ({ type: 'actor.stopped', kind, key: r.key, at: now, reason: 'done' }));
    }
    turn.items.push(r, outEffects, armedDue);
    return turn.result;
  }

  private openTurn(): Turn {
    let resolve!: Turn['resolve'];
    let reject!: Turn['reject'];
    const result = new Promise<DispatchResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const turn: Turn = { items: [], changed: [], result, resolve, reject, flushed: false, wrote: false };
    this.turn = turn;
    this.opts.store.track(result);
    setImmediate(() => this.flush(turn));
    return turn;
  }

  /**
   * Queues the records and timer index changes of the actors the turn changed (from their
   * latest state), then waits for the transaction to hand the turn's effects out.
   */
  private flush(turn: Turn): void {
    if (turn.flushed) return;
    turn.flushed = true;
    if (this.turn === turn) this.turn = undefined;
    this.lastTurn = turn;
    const { snapshots, timers: index } = this.opts.store;
    let failure: unknown;
    for (const r of turn.changed) {
      const pending = r.pending;
      if (pending === Pending.None) continue; // purged meanwhile
      r.pending = Pending.None;
      const kind = r.kind.name;
      turn.wrote = true;
      try {
        const old = r.indexed;
        const cur = r.timers;
        if (old !== cur) {
          for (const id in old) if (cur[id] !== old[id]) this.lastCommit = index.remove([old[id].due, kind, r.key, id]);
          for (const id in cur) if (old[id] !== cur[id]) this.lastCommit = index.put([cur[id].due, kind, r.key, id], null);
          r.indexed = cur;
        }
        if (pending === Pending.Remove) this.lastCommit = snapshots.remove([kind, r.key]);
        else {
          const s = r.snapshot;
          const record: ActorRecord = { v: 1, machineVersion: r.kind.version, value: s.value, context: s.context, timers: cur, lastEventAt: r.lastEventAt };
          this.lastCommit = snapshots.put([kind, r.key], record);
        }
      } catch (err) {
        // lmdb-js refused the record (a context JSON cannot encode, a key too long): this
        // actor is forgotten (reloaded from LMDB on its next event) and the turn fails.
        failure ??= err;
        this.refOf(r).logger.error({ err }, 'record refused by LMDB; turn not committed, effects withheld');
      }
    }
    // The turn's effects wait for its transaction to be committed (visible, and surviving a
    // kill of the process), not for its fsync (`Store.mark`); a turn that wrote nothing waits
    // for the last commit the supervisor queued.
    if (turn.wrote && failure === undefined) {
      try {
        this.lastCommit = this.opts.store.mark();
      } catch (err) {
        failure = err;
      }
    }
    const commit = this.lastCommit;
    const settle = (err: unknown) => {
      // A failed transaction must not fail the turns that wrote nothing after it.
      if (this.lastCommit === commit) this.lastCommit = COMMITTED;
      try {
        this.failTurn(turn, err);
      } catch (e) {
        turn.reject(e);
      }
    };
    if (failure !== undefined) {
      // Let what was queued commit before failing the turn, so that a reload sees it.
      commit.then(() => settle(failure), settle);
      return;
    }
    commit.then(() => turn.resolve(this.runTurn(turn)), settle);
  }

  private runTurn(t: Turn): DispatchResult {
    if (this.lastTurn === t) this.lastTurn = undefined;
    const items = t.items;
    for (let i = 0; i < items.length; i += 3) {
      const r = items[i] as Resident;
      const out = items[i + 1] as Effect[] | undefined;
      const armedDue = items[i + 2] as number;
      r.inflight--;
      if (armedDue !== Infinity) this.scheduler.noteArmed(armedDue);
      if (r.inflight === 0 && r.snapshot.status === 'done') this.forgetEnded(r);
      if (out === undefined) continue;
      const ref = this.refOf(r);
      for (const e of out) {
        try {
          this.opts.effects.execute(e, ref);
        } catch (err) {
          ref.logger.error({ err, effect: e.type }, 'effect failed');
        }
      }
    }
    return 'ok';
  }

  private failTurn(t: Turn, err: unknown): never {
    if (this.lastTurn === t) this.lastTurn = undefined;
    const items = t.items;
    for (let i = 0; i < items.length; i += 3) {
      const r = items[i] as Resident;
      r.inflight--;
      // The in-memory state ran ahead of the disk: forget it, reload on the next event.
      const id = idOf(r.kind.name, r.key);
      if (this.resident.get(id) === r) this.resident.delete(id);
      this.forgetEnded(r);
    }
    this.opts.logger.error({ err, events: items.length / 3 }, 'commit failed; effects withheld');
    throw err;
  }

  /**
   * After an event failed before changing the actor: reloaded from LMDB on its next event,
   * unless writes of its earlier events are still uncommitted (a reload would read the state
   * before them); its state in memory is then exactly what they will commit, and it stays.
   */
  private forgetFailed(r: Resident): void {
    if (r.inflight > 0 || r.pending !== Pending.None) return;
    const id = idOf(r.kind.name, r.key);
    if (this.resident.get(id) === r) this.resident.delete(id);
  }

  /** Once the removal of an ended actor's record is committed, its key may be reused. */
  private forgetEnded(r: Resident): void {
    const id = idOf(r.kind.name, r.key);
    if (this.ending.get(id) === r) this.ending.delete(id);
  }

  private refOf(r: Resident): ActorRef {
    return (r.ref ??= new ResidentRef(r.kind.name, r.key, this.opts.logger));
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
