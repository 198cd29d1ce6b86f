/**
 * The UAS core's 2xx retransmission (RFC 3261 13.3.1.4): the INVITE server transaction ends
 * (RFC 6026: Accepted) once a 2xx is sent, so the core itself resends the 2xx at T1, doubling up
 * to T2, until the ACK arrives, and gives up after 64*T1, telling the application that the
 * dialog should be ended (13.3.1.4: "the UAS core SHOULD ... terminate the dialog").
 * The 2xx is resent over every transport: a stateful proxy on the path may forward it over UDP.
 */
import type { Clock, TimerHandle } from '../../../clock.js';
import type { SipResponse } from '../message.js';
import { nextInterval, timeout64, type SipTimerConfig } from './timers.js';

export class AckWait {
  private retransmit: TimerHandle | undefined;
  private giveUp: TimerHandle | undefined;
  private interval: number;
  private done = false;

  constructor(
    private readonly clock: Clock,
    private readonly timers: SipTimerConfig,
    private readonly response: SipResponse,
    private readonly send: (response: SipResponse) => void,
    private readonly onTimeout: () => void,
  ) {
    this.interval = timers.t1;
  }

  /** Sends nothing itself (the transaction sent the first copy); arms both timers. */
  start(): void {
    this.arm();
    this.giveUp = this.clock.setTimeout(() => {
      if (this.done) return;
      this.stop();
      this.onTimeout();
    }, timeout64(this.timers));
  }

  private arm(): void {
    this.retransmit = this.clock.setTimeout(() => {
      if (this.done) return;
      this.send(this.response);
      this.interval = nextInterval(this.interval, this.timers);
      this.arm();
    }, this.interval);
  }

  /** The ACK came (or the dialog went away): stop retransmitting. */
  stop(): void {
    this.done = true;
    if (this.retransmit) this.clock.clearTimeout(this.retransmit);
    if (this.giveUp) this.clock.clearTimeout(this.giveUp);
  }

  get stopped(): boolean {
    return this.done;
  }
}
