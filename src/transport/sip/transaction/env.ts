/**
 * What a transaction needs from its surroundings: a clock for its timers, the timer values,
 * whether the transport is reliable (RFC 3261 17: retransmissions only over unreliable
 * transports) and a function that hands a message to the transport for this transaction's
 * peer. Keeping this small lets the four machines be tested with a SimulatedClock and an array.
 */
import type { Clock, TimerHandle } from '../../../clock.js';
import type { SipMessage } from '../message.js';
import type { SipTimerConfig } from './timers.js';

/** Environment of one transaction. */
export interface TransactionEnv {
  readonly clock: Clock;
  readonly timers: SipTimerConfig;
  /** True for TCP/TLS: no retransmissions, zero-length wait timers. */
  readonly reliable: boolean;
  /** Sends a message to this transaction's peer. Must not throw. */
  send(message: SipMessage): void;
}

/** @internal A set of named timers, all cancelled together when the transaction ends. */
export class TimerSet {
  /** Created on the first timer: many transactions (a MESSAGE over TCP) never arm one. */
  private live: Map<string, TimerHandle> | undefined;
  constructor(private readonly clock: Clock) {}

  /** (Re)arms timer `name`; a zero delay still fires asynchronously through the clock. */
  set(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    const live = (this.live ??= new Map());
    const h = this.clock.setTimeout(() => {
      live.delete(name);
      fn();
    }, ms);
    live.set(name, h);
  }

  clear(name: string): void {
    const h = this.live?.get(name);
    if (h !== undefined) {
      this.clock.clearTimeout(h);
      this.live!.delete(name);
    }
  }

  clearAll(): void {
    if (this.live === undefined) return;
    for (const h of this.live.values()) this.clock.clearTimeout(h);
    this.live.clear();
  }

  has(name: string): boolean {
    return this.live?.has(name) ?? false;
  }
}
