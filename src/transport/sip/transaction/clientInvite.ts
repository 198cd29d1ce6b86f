/**
 * INVITE client transaction (RFC 3261 17.1.1, figure 5, with the Accepted state of RFC 6026):
 * Calling -> Proceeding -> Completed (non-2xx, ACK sent by the transaction, timer D) or
 * Accepted (2xx; the TU acknowledges; retransmitted 2xx are passed up for 64*T1, timer M).
 * Timer A retransmits the INVITE over UDP only; timer B gives up after 64*T1.
 */
import type { SipHeader, SipRequest, SipResponse } from '../message.js';
import type { ClientTransactionUser } from './clientNonInvite.js';
import { TimerSet, type TransactionEnv } from './env.js';
import { timeout64, timerD } from './timers.js';

/** State names of figure 5 plus RFC 6026 Accepted. */
export type ClientInviteState = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

/**
 * ACK for a non-2xx final response (17.1.1.3): same Request-URI, Call-ID, From, CSeq number
 * and top Via as the INVITE, To of the response, the INVITE's Route headers.
 */
export function ackForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers: SipHeader[] = [];
  const topVia = invite.headers.find((h) => h.name === 'via');
  if (topVia) headers.push(topVia);
  for (const h of invite.headers) {
    if (h.name === 'route') headers.push(h);
  }
  const pick = (msg: { headers: readonly SipHeader[] }, name: string) => msg.headers.find((h) => h.name === name);
  for (const [name, from] of [
    ['from', invite],
    ['to', response],
    ['call-id', invite],
  ] as const) {
    const h = pick(from, name);
    if (h) headers.push(h);
  }
  const cseq = pick(invite, 'cseq');
  const seq = cseq ? cseq.value.trim().split(/\s+/)[0] : '1';
  headers.push({ name: 'cseq', value: `${seq} ACK` });
  headers.push({ name: 'max-forwards', value: '70' });
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers, body: Buffer.alloc(0) };
}

/** An INVITE client transaction; `start()` sends the INVITE. */
export class ClientInviteTransaction {
  state: ClientInviteState = 'calling';
  private readonly timers: TimerSet;
  private interval: number;
  private ack: SipRequest | undefined;

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
    if (!this.env.reliable) this.armA();
    this.timers.set('B', timeout64(this.env.timers), () => {
      if (this.state === 'calling') {
        this.terminate();
        this.user.onTimeout('timeout');
      }
    });
  }

  /** Timer A: T1, doubling each time, no cap (17.1.1.2), only while Calling. */
  private armA(): void {
    this.timers.set('A', this.interval, () => {
      if (this.state !== 'calling') return;
      this.env.send(this.request);
      this.interval *= 2;
      this.armA();
    });
  }

  receive(response: SipResponse): void {
    const s = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding':
        if (s < 200) {
          this.state = 'proceeding';
          this.timers.clear('A');
          // Timer B only guards Calling; in Proceeding the TU decides (CANCEL).
          this.timers.clear('B');
          this.user.onResponse(response);
        } else if (s < 300) {
          this.state = 'accepted';
          this.timers.clear('A');
          this.timers.clear('B');
          this.user.onResponse(response);
          // RFC 6026 timer M: keep matching 2xx retransmissions so the TU can re-ACK them.
          this.timers.set('M', timeout64(this.env.timers), () => this.terminate());
        } else {
          this.state = 'completed';
          this.timers.clear('A');
          this.timers.clear('B');
          this.ack = ackForNon2xx(this.request, response);
          this.env.send(this.ack);
          this.user.onResponse(response);
          this.timers.set('D', timerD(this.env.timers, this.env.reliable), () => this.terminate());
        }
        return;
      case 'completed':
        // A retransmitted final response: resend the ACK, tell nobody (17.1.1.2).
        if (s >= 300 && this.ack) this.env.send(this.ack);
        return;
      case 'accepted':
        if (s >= 200 && s < 300) this.user.onResponse(response);
        return;
      case 'terminated':
        return;
    }
  }

  transportError(): void {
    if (this.state === 'calling' || this.state === 'proceeding') {
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
