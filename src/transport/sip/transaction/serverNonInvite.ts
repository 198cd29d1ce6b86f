/**
 * Non-INVITE server transaction (RFC 3261 17.2.2, figure 8): Trying -> Proceeding ->
 * Completed -> Terminated. Request retransmissions are absorbed in Trying and answered
 * with the last response afterwards; timer J (64*T1 over UDP, zero over TCP) ends Completed.
 */
import type { SipRequest, SipResponse } from '../message.js';
import { TimerSet, type TransactionEnv } from './env.js';
import { timerJ } from './timers.js';

export type ServerNonInviteState = 'trying' | 'proceeding' | 'completed' | 'terminated';

export class ServerNonInviteTransaction {
  state: ServerNonInviteState = 'trying';
  private readonly timers: TimerSet;
  private last: SipResponse | undefined;

  constructor(
    private readonly env: TransactionEnv,
    readonly request: SipRequest,
    /**
     * `endsCompleted`: the user ends the Completed state itself (it calls `terminate` after the
     * final response, keeping what retransmissions need), so timer J is not armed here.
     */
    private readonly user: { onTerminated(): void; readonly endsCompleted?: boolean },
  ) {
    this.timers = new TimerSet(env.clock);
  }

  get lastResponse(): SipResponse | undefined {
    return this.last;
  }

  receiveRequest(): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.last) this.env.send(this.last);
  }

  respond(response: SipResponse): boolean {
    if (this.state !== 'trying' && this.state !== 'proceeding') return false;
    this.last = response;
    this.env.send(response);
    if (response.status < 200) {
      this.state = 'proceeding';
      return true;
    }
    this.state = 'completed';
    if (this.user.endsCompleted === true) return true;
    this.timers.set('J', timerJ(this.env.timers, this.env.reliable), () => this.terminate());
    return true;
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timers.clearAll();
    this.user.onTerminated();
  }
}
