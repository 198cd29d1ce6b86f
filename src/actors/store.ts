/**
 * Persistence: one LMDB environment with named databases. The runtime owns `snapshots`
 * (one record per persisted actor) and `timers` (the due-time index of durable timers);
 * applications open their own named databases (`messages`, `registrations`, `rooms`...) from
 * the same environment so that one event's snapshot and data commit in one transaction.
 *
 * Keys are tuples with one type per position (PACKAGES.md: `['u']` and `'u'` are the same
 * key; keys are limited to 1978 bytes).
 */
import { open, type Database, type Key, type RootDatabase } from 'lmdb';

/** Which kind and key name an actor: `['room', 'sip:dev@conf.example.com']`. */
export type ActorKey = [kind: string, key: string];

/** A pending durable timer as kept inside its actor's record. */
export interface TimerEntry {
  /** Absolute due time, ms since epoch. */
  readonly due: number;
  /** The event the machine asked to receive (a delayed `raise`). */
  readonly event: { readonly type: string; readonly [k: string]: unknown };
}

/** What is stored per actor: the machine's persisted state plus its pending timers. */
export interface ActorRecord {
  /** Record layout version: restore accepts this and the previous one. */
  readonly v: 1;
  /** The actor kind's machine version (`ActorKind.version`), for migrations. */
  readonly machineVersion: number;
  readonly value: unknown;
  readonly context: unknown;
  readonly timers: Readonly<Record<string, TimerEntry>>;
  /** Time of the last event, for the visualizer and idle accounting. */
  readonly lastEventAt: number;
}

/** Timer index key: ordered by due time so the scheduler reads the earliest first. */
export type TimerIndexKey = [due: number, kind: string, key: string, timerId: string];

export interface StoreOptions {
  /** Directory of the LMDB environment; created if missing. */
  readonly path: string;
  /** Maximum number of named databases (default 32). */
  readonly maxDbs?: number;
}

/**
 * One write of application data, prepared before the commit so that a failure while
 * preparing leaves nothing half-written (LMDB's asynchronous transactions do not roll back
 * a callback that throws: measured).
 */
export type Write =
  | { readonly db: Database<any, any>; readonly key: Key; readonly value: unknown }
  | { readonly db: Database<any, any>; readonly key: Key; readonly remove: true };

/** The opened environment and the runtime's own databases. */
interface Group {
  readonly writes: Array<() => void>;
  done: Promise<void>;
}

export class Store {
  private group: Group | undefined;
  private tracked: Promise<unknown> | undefined;
  readonly env: RootDatabase;
  readonly snapshots: Database<ActorRecord, ActorKey>;
  readonly timers: Database<null, TimerIndexKey>;

  constructor(opts: StoreOptions) {
    // batchStartThreshold (lmdb-js 3.5 write.js; not in its README): by default lmdb-js'
    // write thread starts on a turn's writes after 1,000 of them and then waits on each new
    // one, and waking it cost the main thread more than the B-tree work it took over
    // (bench/runtime.ts: main thread 36 vs 31 us per event). Started at the end of the turn,
    // the write thread does the whole batch at once, off the main thread.
    this.env = open({ path: opts.path, noSubdir: false, maxDbs: opts.maxDbs ?? 32, batchStartThreshold: 1e9 } as Parameters<typeof open>[0]);
    this.snapshots = this.env.openDB<ActorRecord, ActorKey>({ name: 'snapshots', encoding: 'json' });
    this.timers = this.env.openDB<null, TimerIndexKey>({ name: 'timers' });
  }

  /** Opens (creating if needed) an application database in the same environment. */
  openDB<V = unknown, K extends Key = Key>(name: string): Database<V, K> {
    return this.env.openDB<V, K>({ name });
  }

  /**
   * Runs `writes` inside an LMDB transaction (they must use `putSync`/`removeSync`, as
   * lmdb-js asks inside transaction callbacks); resolves once it is committed: visible, and
   * surviving a kill of the process.
   *
   * Group commit: every `commit` issued in the same event-loop turn shares one transaction
   * (one lmdb-js callback instead of one per event: 3x the events per second, measured by
   * bench/runtime.ts). They succeed or fail together, and commit in call order.
   */
  commit(writes: () => void): Promise<void> {
    if (this.group === undefined) {
      const group: Group = { writes: [], done: undefined as never };
      group.done = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.group = undefined;
          this.env.transaction(() => {
            for (const w of group.writes) w();
          }).then(() => resolve(), reject);
        });
      });
      this.group = group;
    }
    this.group.writes.push(writes);
    return this.group.done;
  }

  /**
   * Queues prepared writes as lmdb-js asynchronous single operations and returns the commit
   * promise of the transaction they joined (undefined when `writes` is empty).
   *
   * Every asynchronous write issued in one event turn goes into the same LMDB transaction
   * (lmdb-js event-turn batching), executed by lmdb-js' write thread: the B-tree work leaves
   * the main thread, and no callback or closure is kept per write. The writes of one event,
   * issued together synchronously, therefore commit atomically, and transactions commit (and
   * their promises resolve) in issue order. A write lmdb-js refuses (key too long, value it
   * cannot encode) throws here, synchronously: the writes issued before it in the same call
   * stay queued, so put the writes most likely to be refused first.
   *
   * Do not mix with `commit` for writes whose relative order matters: lmdb-js runs the
   * transaction callbacks of a turn after its single operations.
   */
  static issue(writes: readonly Write[]): Promise<boolean> | undefined {
    let p: Promise<boolean> | undefined;
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i];
      p = 'remove' in w ? w.db.remove(w.key) : w.db.put(w.key, w.value);
    }
    return p;
  }

  /**
   * Makes `settled` wait for `work` too: writes a caller has decided on but queues later in
   * the turn (the supervisor queues its records at the end of each turn), and what follows
   * their commit (its effects). Calls must come in completion order; the last one counts.
   */
  track(work: Promise<unknown>): void {
    this.tracked = work;
  }

  /** Resolves when every commit issued (or tracked) so far has settled (succeeded or failed). */
  async settled(): Promise<void> {
    await this.tracked?.catch(() => undefined);
    await this.group?.done.catch(() => undefined);
    await this.env.committed;
  }

  /** Issues prepared writes; call inside `commit`. */
  static apply(writes: readonly Write[]): void {
    for (const w of writes) {
      if ('remove' in w) w.db.removeSync(w.key);
      else w.db.putSync(w.key, w.value);
    }
  }

  /** Waits for every write issued so far to be committed and flushed to disk. */
  async flushed(): Promise<void> {
    await this.env.flushed;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    await this.env.close();
  }
}
