/**
 * INVITE server transaction (RFC 3261 17.2.1, figure 7, with RFC 6026's Accepted state):
 * Proceeding -> Completed (non-2xx; timer G retransmits it over UDP until the ACK, timer H
 * gives up) -> Confirmed (timer I absorbs ACK retransmissions) or Accepted (2xx; the UAS
 * core retransmits the 2xx itself; timer L absorbs INVITE retransmissions).
 */
import type { SipRequest, SipResponse } from '../message.js';
import { TimerSet, type TransactionEnv } from './env.js';
import { nextInterval, timeout64, timerT4OrZero } from './timers.js';

export type ServerInviteState = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

/** What the INVITE server transaction tells its user. */
export interface ServerInviteUser {
  /** Timer H fired: the ACK for a non-2xx final response never came (17.2.1). */
  onAckTimeout?(): void;
  onTerminated(): void;
}

export class ServerInviteTransaction {
  state: ServerInviteState = 'proceeding';
  private readonly timers: TimerSet;
  private last: SipResponse | undefined;
  private interval: number;

  constructor(
    private readonly env: TransactionEnv,
    readonly request: SipRequest,
    private readonly user: ServerInviteUser,
  ) {
    this.timers = new TimerSet(env.clock);
    this.interval = env.timers.t1;
  }

  /** The last response sent, if any. */
  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  /** A retransmission of the INVITE arrived: resend the last response (17.2.1). */
  receiveRequest(): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last) this.env.send(this.last);
  }

  /** An ACK matching this transaction (i.e. for a non-2xx response) arrived. */
  receiveAck(): void {
    if (this.state !== 'completed') return; // absorbed in Confirmed; ignored elsewhere
    this.state = 'confirmed';
    this.timers.clear('G');
    this.timers.clear('H');
    this.timers.set('I', timerT4OrZero(this.env.timers, this.env.reliable), () => this.terminate());
  }

  /** The TU sends a response. Returns false when the state does not allow it. */
  respond(response: SipResponse): boolean {
    const s = response.status;
    if (this.state === 'accepted') {
      // RFC 6026 7.1: 2xx retransmissions from the UAS core pass through.
      if (s >= 200 && s < 300) {
        this.env.send(response);
        return true;
      }
      return false;
    }
    if (this.state !== 'proceeding') return false;
    this.last = response;
    this.env.send(response);
    if (s < 200) return true;
    if (s < 300) {
      this.state = 'accepted';
      this.timers.set('L', timeout64(this.env.timers), () => this.terminate());
      return true;
    }
    this.state = 'completed';
    if (!this.env.reliable) this.armG();
    this.timers.set('H', timeout64(this.env.timers), () => {
      if (this.state !== 'completed') return;
      this.terminate();
      this.user.onAckTimeout?.();
    });
    return true;
  }

  /** Timer G: T1 doubling up to T2, retransmitting the final response (UDP only). */
  private armG(): void {
    this.timers.set('G', this.interval, () => {
      if (this.state !== 'completed' || !this.last) return;
      this.env.send(this.last);
      this.interval = nextInterval(this.interval, this.env.timers);
      this.armG();
    });
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clearAll();
    this.user.onTerminated();
  }
}
