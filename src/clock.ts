/**
 * Injected time. Everything in Parley that waits (SIP retransmissions, MSRP response
 * timeouts, actor timers) asks a `Clock`, so tests drive time with `SimulatedClock` and never
 * sleep for a protocol timer.
 */

export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `Date.now()` and Node's timers (unref'd, so they never hold the process open). */
export function systemClock(): Clock {
  const live = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      const id = next++;
      const t = setTimeout(() => {
        live.delete(id);
        fn();
      }, Math.max(0, ms));
      t.unref();
      live.set(id, t);
      return { id };
    },
    clearTimeout(handle) {
      const t = live.get(handle.id);
      if (t !== undefined) {
        clearTimeout(t);
        live.delete(handle.id);
      }
    },
  };
}

/**
 * A clock that moves only when told. `advance(ms)` fires every timer due within the step, in
 * due order (ties in creation order), each seeing `now()` equal to its own due time.
 */
export class SimulatedClock implements Clock {
  private time: number;
  private seq = 1;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 10, 22, 10, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.seq++;
    this.timers.set(id, { due: this.time + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers (including ones they set within the step). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let firstId = -1;
      let first: { due: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.due <= end && (first === undefined || t.due < first.due)) {
          first = t;
          firstId = id;
        }
      }
      if (first === undefined) break;
      this.timers.delete(firstId);
      this.time = Math.max(this.time, first.due);
      first.fn();
    }
    this.time = end;
  }

  /** Sets the time to an absolute value (never backwards), firing what falls due. */
  advanceTo(time: number): void {
    if (time > this.time) this.advance(time - this.time);
  }
}
