/**
 * The inspection stream: actor lifecycle and event records published to in-process
 * subscribers (the visualizer, tests). Publishing never waits for a subscriber: each one has
 * a bounded queue drained on a later macrotask, and a subscriber that falls behind loses the
 * oldest records (counted in `dropped`) instead of slowing the actors.
 */

/** The state of an actor as the visualizer shows it. */
export interface StateView {
  readonly value: unknown;
  readonly status: string;
  readonly context: unknown;
}

export type InspectionRecord =
  | { readonly type: 'actor.created'; readonly kind: string; readonly key: string; readonly at: number; readonly restored: boolean; readonly state: StateView }
  | { readonly type: 'actor.event'; readonly kind: string; readonly key: string; readonly at: number; readonly event: unknown; readonly before: StateView; readonly after: StateView; readonly effects: readonly unknown[] }
  | { readonly type: 'actor.error'; readonly kind: string; readonly key: string; readonly at: number; readonly event: unknown; readonly error: string }
  | { readonly type: 'timer.armed'; readonly kind: string; readonly key: string; readonly at: number; readonly timerId: string; readonly due: number }
  | { readonly type: 'timer.cancelled'; readonly kind: string; readonly key: string; readonly at: number; readonly timerId: string }
  | { readonly type: 'timer.fired'; readonly kind: string; readonly key: string; readonly at: number; readonly timerId: string; readonly due: number }
  | { readonly type: 'actor.passivated'; readonly kind: string; readonly key: string; readonly at: number }
  | { readonly type: 'actor.stopped'; readonly kind: string; readonly key: string; readonly at: number; readonly reason: 'done' | 'purged' };

export interface Subscription {
  /** Records this subscriber lost because its queue was full. */
  readonly dropped: number;
  unsubscribe(): void;
}

interface Subscriber {
  readonly fn: (r: InspectionRecord) => void;
  readonly limit: number;
  queue: InspectionRecord[];
  scheduled: boolean;
  dropped: number;
  active: boolean;
}

export class InspectionStream {
  private readonly subscribers = new Set<Subscriber>();

  /** True when someone listens: the runtime skips building records otherwise. */
  get active(): boolean {
    return this.subscribers.size > 0;
  }

  /**
   * Calls `fn` with every record published from now on, asynchronously and in order.
   * `queueLimit` (default 10,000) bounds what may wait for this subscriber.
   */
  subscribe(fn: (r: InspectionRecord) => void, queueLimit = 10_000): Subscription {
    const s: Subscriber = { fn, limit: Math.max(1, queueLimit), queue: [], scheduled: false, dropped: 0, active: true };
    this.subscribers.add(s);
    return {
      get dropped() {
        return s.dropped;
      },
      unsubscribe: () => {
        s.active = false;
        this.subscribers.delete(s);
      },
    };
  }

  publish(record: InspectionRecord): void {
    for (const s of this.subscribers) {
      if (s.queue.length >= s.limit) {
        s.queue.shift();
        s.dropped++;
      }
      s.queue.push(record);
      if (!s.scheduled) {
        s.scheduled = true;
        setImmediate(() => this.drain(s));
      }
    }
  }

  private drain(s: Subscriber): void {
    s.scheduled = false;
    const batch = s.queue;
    s.queue = [];
    for (const r of batch) {
      if (!s.active) return;
      try {
        s.fn(r);
      } catch {
        // A throwing subscriber must not break the others or the runtime; it is removed.
        s.active = false;
        this.subscribers.delete(s);
      }
    }
  }
}
