/**
 * Durable timers. xstate drops pending delays when a snapshot is restored (PACKAGES.md), so
 * the runtime owns them: every pending timer of every actor is an entry `[due, kind, key,
 * timerId]` in the `timers` index, committed with the event that armed it. One clock timer
 * is armed, for the earliest entry only: start-up costs one read whatever the number of
 * persisted timers, and overdue entries fire at once.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { Store, TimerIndexKey } from './store.js';

/** Called for each due entry; the supervisor checks it against the actor's record. */
export type FireTimer = (kind: string, key: string, timerId: string, due: number) => void;

const MAX_ARM_MS = 2 ** 31 - 1; // setTimeout's ceiling; longer waits re-arm on wake-up

export class TimerScheduler {
  private handle: TimerHandle | undefined;
  private armedDue = Infinity;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly fire: FireTimer,
  ) {}

  /** Arms the clock for the earliest persisted timer (at start-up and after each firing). */
  start(): void {
    this.stopped = false;
    this.armNext();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedDue = Infinity;
  }

  /** A timer due at `due` was just committed: wake earlier if it is the new earliest. */
  noteArmed(due: number): void {
    if (!this.stopped && due < this.armedDue) this.arm(due);
  }

  private armNext(): void {
    for (const key of this.store.timers.getKeys({ limit: 1 })) {
      this.arm(key[0]);
      return;
    }
    this.armedDue = Infinity;
  }

  private arm(due: number): void {
    if (this.handle) this.clock.clearTimeout(this.handle);
    this.armedDue = due;
    const wait = Math.min(MAX_ARM_MS, Math.max(0, due - this.clock.now()));
    this.handle = this.clock.setTimeout(() => this.onWake(), wait);
  }

  private onWake(): void {
    this.handle = undefined;
    this.armedDue = Infinity;
    if (this.stopped) return;
    const now = this.clock.now();
    // Collect first, then fire: firing queues writes to the same index.
    const due: TimerIndexKey[] = [];
    for (const key of this.store.timers.getKeys({ end: [now, '\uffff'] })) {
      if (key[0] > now) break;
      due.push(key);
    }
    for (const [at, kind, key, timerId] of due) this.fire(kind, key, timerId, at);
    // Entries just fired are deleted by their actors' commits, which are not visible yet:
    // look for the next one strictly after `now`. Anything armed meanwhile came via noteArmed.
    for (const key of this.store.timers.getKeys({ start: [now + 1], limit: 1 })) {
      if (key[0] < this.armedDue) this.arm(key[0]);
      return;
    }
  }
}
