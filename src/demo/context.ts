/**
 * What the demo's scenarios share: the demo's own user agent (a second SIP stack on the
 * loopback address, every demo user's phone), its MSRP endpoint, Parley's addresses, and
 * pauses that stop with the demo.
 */
import type { Logger } from 'pino';
import type { AdminClient } from '../cli/adminClient.js';
import type { MsrpEndpoint } from '../transport/msrp/endpoint.js';
import type { SipStack } from '../transport/sip/stack.js';
import type { IncomingRequest, SipEndpoint } from '../transport/sip/transport.js';
import { getHeader } from '../transport/sip/headers.js';

export interface ScenarioContext {
  /** The demo's own user agent (a second SIP stack on 127.0.0.1). */
  readonly ua: SipStack;
  /** The demo users' MSRP side (its own endpoint, not Parley's). */
  readonly msrp: MsrpEndpoint;
  /** Requests Parley sends to the demo's phones, routed by Call-ID. */
  readonly calls: CallRouter;
  /** Parley's admin API (static rooms are provisioned through it). */
  readonly admin: AdminClient;
  /** Parley's SIP address. */
  readonly parley: SipEndpoint;
  /** Parley's first local domain (mailbox users). */
  readonly domain: string;
  /** Parley's first conference domain (rooms are its users). */
  readonly conferenceDomain: string;
  /** How long Parley waits for a joiner's ACK (`roomAckTimeoutMs`). */
  readonly ackTimeoutMs: number;
  readonly logger: Logger;
  /** Resolves after `ms` (scaled by the demo's pace), or rejects once the demo stops. */
  pause(ms: number): Promise<void>;
  /**
   * Resolves with `p`, or rejects after `ms` of real time (not scaled: it bounds protocol
   * waits such as the room's ACK timeout) or once the demo stops.
   */
  within<T>(p: Promise<T>, ms: number, what: string): Promise<T>;
}

/**
 * The demo UA's one request handler dispatches on Call-ID to whoever owns the call (a
 * participant's dialog, a REFER's subscription); anything else is answered 200 (a user's
 * phone accepting a delivered MESSAGE).
 */
export class CallRouter {
  private readonly handlers = new Map<string, (req: IncomingRequest) => void>();

  /** Routes the requests of `callId` to `handler` until the returned function is called. */
  on(callId: string, handler: (req: IncomingRequest) => void): () => void {
    this.handlers.set(callId, handler);
    return () => {
      if (this.handlers.get(callId) === handler) this.handlers.delete(callId);
    };
  }

  handle(req: IncomingRequest): void {
    const h = this.handlers.get(getHeader(req.request, 'call-id') ?? '');
    if (h !== undefined) h(req);
    else req.respond(200);
  }
}
