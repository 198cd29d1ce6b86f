/**
 * Non-INVITE client transaction (RFC 3261 17.1.2, figure 6): Trying -> Proceeding ->
 * Completed -> Terminated, timers E (retransmit, UDP only), F (timeout) and K (absorb
 * response retransmissions).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { TimerSet, type TransactionEnv } from './env.js';
import { nextInterval, timeout64, timerT4OrZero } from './timers.js';

/** State names of figure 6. */
export type ClientNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

/** What the transaction tells its transaction user. */
export interface ClientTransactionUser {
  /** Every response passed up: provisional ones and the (first) final one. */
  onResponse(response: SipResponse): void;
  /** Timer B/F fired or the transport failed before a final response (8.1.3.1: treat as 408/503). */
  onTimeout(kind: 'timeout' | 'transport'): void;
  /** The transaction left the table. */
  onTerminated(): void;
}

/** A non-INVITE client transaction; `start()` sends the request. */
export class ClientNonInviteTransaction {
  state: ClientNonInviteState = 'trying';
  private readonly timers: TimerSet;
  private interval: number;

  constructor(
    private readonly env: TransactionEnv,
    readonly request: SipRequest,
    private readonly user: ClientTransactionUser,
  ) {
    this.timers = new TimerSet(env.clock);
    this.interval = env.timers.t1;
  }

  start(): void {
    this.env.send(this.request);
    if (!this.env.reliable) this.armE();
    this.timers.set('F', timeout64(this.env.timers), () => {
      if (this.state === 'trying' || this.state === 'proceeding') {
        this.terminate();
        this.user.onTimeout('timeout');
      }
    });
  }

  /** 17.1.2.2: E fires at T1, doubling up to T2; in Proceeding it stays at T2. */
  private armE(): void {
    this.timers.set('E', this.interval, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.env.send(this.request);
      this.interval = this.state === 'proceeding' ? this.env.timers.t2 : nextInterval(this.interval, this.env.timers);
      this.armE();
    });
  }

  receive(response: SipResponse): void {
    if (this.state === 'completed' || this.state === 'terminated') return; // absorbed (timer K)
    if (response.status < 200) {
      this.state = 'proceeding';
      this.user.onResponse(response);
      return;
    }
    this.state = 'completed';
    this.timers.clear('E');
    this.timers.clear('F');
    this.user.onResponse(response);
    this.timers.set('K', timerT4OrZero(this.env.timers, this.env.reliable), () => this.terminate());
  }

  /** The transport could not send the request (8.1.3.1, 17.1.4). */
  transportError(): void {
    if (this.state === 'trying' || this.state === 'proceeding') {
      this.terminate();
      this.user.onTimeout('transport');
    }
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clearAll();
    this.user.onTerminated();
  }
}
