/**
 * Persistence: one LMDB environment with named databases. The runtime owns `snapshots`
 * (one record per persisted actor), `timers` (the due-time index of durable timers) and
 * `commitMarks` (how the runtime learns that a transaction is committed before its fsync,
 * `Store.mark`);
 * applications open their own named databases (`messages`, `registrations`, `rooms`...) from
 * the same environment so that one event's snapshot and data commit in one transaction.
 *
 * Keys are tuples with one type per position (PACKAGES.md: `['u']` and `'u'` are the same
 * key; keys are limited to 1978 bytes).
 */
import { randomBytes } from 'node:crypto';
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

/** A commit mark (see `Store.mark`): this process' epoch and a counter. */
type MarkKey = [epoch: string, n: number];

/** A `mark` waiting for its transaction to be committed. */
interface MarkWaiter {
  readonly n: number;
  readonly resolve: (ok: boolean) => void;
  /** The mark's own write: resolves after its transaction's sync. */
  readonly written: Promise<boolean>;
}

/** The opened environment and the runtime's own databases. */
export class Store {
  private tracked: Promise<unknown> | undefined;
  readonly env: RootDatabase;
  readonly snapshots: Database<ActorRecord, ActorKey>;
  readonly timers: Database<null, TimerIndexKey>;
  /** Commit marks not yet known flushed (see `mark`). */
  private readonly marks: Database<true, MarkKey>;
  private readonly epoch = randomBytes(6).toString('hex');
  private lastMark = 0;
  /** Marks issued and not yet settled, in issue order. */
  private readonly markWaiters: MarkWaiter[] = [];
  /** Marks whose transaction is known committed: their keys go with the next mark. */
  private readonly marksDone: number[] = [];
  /** Marks left by earlier processes are removed with this process' first mark. */
  private staleMarks = true;
  /** The write of the last mark known committed (see `synced`). */
  private lastCommittedMarkWrite: Promise<boolean> | undefined;
  private closed = false;
  /** True when `mark` learns of commits before their sync (the write-thread hook is in place). */
  readonly commitsWatched: boolean;

  constructor(opts: StoreOptions) {
    // batchStartThreshold (lmdb-js 3.5 write.js; not in its README): by default lmdb-js'
    // write thread starts on a turn's writes after 1,000 of them and then waits on each new
    // one, and waking it cost the main thread more than the B-tree work it took over
    // (bench/runtime.ts: main thread 36 vs 31 us per event). Started at the end of the turn,
    // the write thread does the whole batch at once, off the main thread.
    this.env = open({ path: opts.path, noSubdir: false, maxDbs: opts.maxDbs ?? 32, batchStartThreshold: 1e9 } as Parameters<typeof open>[0]);
    this.snapshots = this.env.openDB<ActorRecord, ActorKey>({ name: 'snapshots', encoding: 'json' });
    this.timers = this.env.openDB<null, TimerIndexKey>({ name: 'timers' });
    this.marks = this.env.openDB<true, MarkKey>({ name: 'commitMarks' });
    this.commitsWatched = this.watchCommits();
  }

  /**
   * Queues a commit mark (a key of its own in `commitMarks`) with the writes issued so far in
   * this event turn, and returns a promise that resolves once the LMDB transaction holding
   * them is committed: visible to readers, and surviving a kill of the process (LMDB reopened
   * after a crash of the process uses the latest commit while the machine has not rebooted),
   * but not necessarily flushed to disk: a power loss before the fsync loses it (`synced`
   * waits for that).
   *
   * Why: with overlappingSync (lmdb-js' default on Linux) LMDB commits, makes the transaction
   * visible, then fsyncs outside the write lock; but lmdb-js 3.5 resolves a write's promise
   * only when the whole commit call has returned, fsync included (writer.cpp sets
   * TXN_COMMITTED after mdb_txn_commit; measured: put() and `flushed` resolve together). On a
   * disk whose fsync stalls for hundreds of ms now and then, every answer waiting on a
   * promise waited for the stall (bench/room.ts: SEND -> 200 p99 120-440 ms while its LMDB
   * transactions were visible at p99 9 ms). The write thread reports each transaction to the
   * main thread as soon as it is visible (`watchCommits`); the marks a fresh read transaction
   * then sees are committed. Without that report (another lmdb-js), the promise of the
   * mark's own write still resolves it, after the fsync, as before; it rejects when that
   * write's transaction failed. A mark's key is removed with the next mark once its own write
   * has resolved.
   */
  mark(): Promise<boolean> {
    if (this.staleMarks) {
      this.staleMarks = false;
      for (const key of this.marks.getKeys()) if (key[0] !== this.epoch) this.marks.remove(key);
    }
    for (const n of this.marksDone) this.marks.remove([this.epoch, n]);
    this.marksDone.length = 0;
    const n = ++this.lastMark;
    const written = this.marks.put([this.epoch, n], true);
    return new Promise<boolean>((resolve, reject) => {
      const waiter: MarkWaiter = { n, resolve, written };
      this.markWaiters.push(waiter);
      written.then(
        () => {
          this.marksDone.push(n);
          if (this.forget(waiter)) {
            this.lastCommittedMarkWrite = written;
            resolve(true);
          }
        },
        (err: unknown) => {
          if (this.forget(waiter)) reject(err);
        },
      );
    });
  }

  /** Removes a waiter not settled yet; false when it was. */
  private forget(waiter: MarkWaiter): boolean {
    const i = this.markWaiters.indexOf(waiter);
    if (i < 0) return false;
    this.markWaiters.splice(i, 1);
    return true;
  }

  /**
   * Resolves, in issue order, the marks a fresh read transaction sees (each mark has its own
   * key: a transaction that failed while a later one committed reveals nothing of its own).
   */
  private reveal(): void {
    const w = this.markWaiters;
    this.env.resetReadTxn();
    let n = 0;
    while (n < w.length && this.marks.doesExist([this.epoch, w[n].n])) n++;
    if (n === 0) return;
    this.lastCommittedMarkWrite = w[n - 1].written;
    for (const x of w.splice(0, n)) x.resolve(true);
  }

  /**
   * Hooks the write thread's reports: lmdb-js starts each asynchronous transaction with the
   * native `startWriting(address, callback)`; the callback gets 1 once the transaction is
   * visible (LMDB's commit done, its fsync not yet), 0 when the write thread is done (after
   * the fsync), 2 for transaction callbacks. The hook passes everything through and, on 1
   * or 0, looks for the pending marks afresh.
   */
  private watchCommits(): boolean {
    const native = (this.env as unknown as { env?: { startWriting?: unknown; writeTxn?: unknown } }).env;
    const start = native?.startWriting;
    if (native === undefined || typeof start !== 'function') return false;
    const check = () => {
      // Inside a write transaction (lmdb-js running transaction callbacks) reads would see
      // its uncommitted writes.
      if (this.closed || this.markWaiters.length === 0 || native.writeTxn) return;
      try {
        this.reveal();
      } catch {
        // Closing: the marks' own promises settle them.
      }
    };
    Object.defineProperty(native, 'startWriting', {
      configurable: true,
      value(this: unknown, address: number, callback: (status: number) => unknown) {
        return (start as (a: number, c: (s: number) => unknown) => unknown).call(this, address, (status: number) => {
          const r = callback(status);
          if (status === 1 || status === 0) check();
          return r;
        });
      },
    });
    return true;
  }

  /** Opens (creating if needed) an application database in the same environment. */
  openDB<V = unknown, K extends Key = Key>(name: string): Database<V, K> {
    return this.env.openDB<V, K>({ name });
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
    await this.env.committed;
  }

  /**
   * Resolves once the transactions whose marks have resolved are on disk (or rejects when the
   * last of them failed). It waits for the write of the last mark known committed: lmdb-js
   * resolves a write when LMDB's commit call has returned, after the fsync and the meta page
   * that says "flushed" (with overlappingSync a meta page written before the fsync is not
   * trusted after a reboot, so a sync of our own would not do), and LMDB syncs transactions in
   * commit order. Not the last mark issued: that one may belong to a transaction not committed
   * yet, and waiting for its sync too doubled a mailbox 202's latency.
   *
   * Why not `flushed`: lmdb-js resolves `env.flushed` when its write thread goes idle, so under
   * a steady stream of writes it waits for later transactions too (bench/msilo.ts: 202s at
   * 5,300/s with `flushed`, the server idle 43% of the time).
   */
  async synced(): Promise<void> {
    await this.lastCommittedMarkWrite;
  }

  async close(): Promise<void> {
    await this.env.flushed;
    this.closed = true;
    await this.env.close();
  }
}
