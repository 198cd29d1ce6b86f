/**
 * Request checks a UAS makes before any application sees a request (RFC 3261 8.2.1-8.2.2,
 * 16.3 item 2 for Max-Forwards) and the OPTIONS answer (11.2). Pure: each check returns the
 * rejection to send, or undefined.
 */
import type { SipHeader, SipRequest } from './message.js';
import { getHeader, getHeaders } from './headers.js';
import { uriScheme } from './uri.js';

/** What this server does: the Allow, Supported and Accept values it advertises. */
export interface MethodPolicy {
  /** Methods accepted; others get 405 with Allow (8.2.1). */
  readonly allow: readonly string[];
  /** Option tags understood; a Require naming another gets 420 (8.2.2.3). */
  readonly supported: readonly string[];
  /** Body types accepted, for the OPTIONS answer (11.2). */
  readonly accept: readonly string[];
  /** Request-URI schemes accepted; others get 416 (8.2.2.1). */
  readonly schemes: readonly string[];
}

/** Parley's defaults: the methods of PROTOCOLS.md plus the in-dialog ones. */
export const defaultMethodPolicy: MethodPolicy = Object.freeze({
  allow: ['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'INFO', 'UPDATE', 'REGISTER'],
  supported: ['path', 'norefersub', 'recipient-list-invite'],
  accept: ['application/sdp', 'message/cpim', 'text/plain', 'application/reginfo+xml', 'multipart/mixed', 'application/resource-lists+xml'],
  schemes: ['sip', 'sips', 'tel'],
});

/** A refusal: status, optional reason and the headers it must carry. */
export interface Rejection {
  readonly status: number;
  readonly reason?: string;
  readonly headers: SipHeader[];
}

/**
 * Checks in this order: Max-Forwards 0 -> 483 (a loop must not be processed further; OPTIONS
 * excepted, 16.3 item 2 lets the element answer it), unknown method -> 405 + Allow, Request-URI
 * scheme -> 416, Require of an unsupported extension -> 420 + Unsupported (not for ACK and
 * CANCEL, 8.2.2.3).
 */
export function checkRequest(req: SipRequest, policy: MethodPolicy = defaultMethodPolicy): Rejection | undefined {
  const mf = getHeader(req, 'max-forwards');
  if (mf !== undefined && /^\s*0+\s*$/.test(mf) && req.method !== 'OPTIONS' && req.method !== 'ACK') {
    return { status: 483, headers: [] };
  }
  if (!policy.allow.includes(req.method)) {
    return { status: 405, headers: [{ name: 'allow', value: policy.allow.join(', ') }] };
  }
  const scheme = uriScheme(req.uri);
  if (scheme === undefined || !policy.schemes.includes(scheme)) {
    return { status: 416, headers: [] };
  }
  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    const unsupported = getHeaders(req, 'require')
      .map((t) => t.trim())
      .filter((t) => t.length > 0 && !policy.supported.some((s) => s.toLowerCase() === t.toLowerCase()));
    if (unsupported.length > 0) {
      return { status: 420, headers: [{ name: 'unsupported', value: unsupported.join(', ') }] };
    }
  }
  return undefined;
}

/** Allow, Accept and Supported headers for a 200 to OPTIONS (RFC 3261 11.2). */
export function optionsHeaders(policy: MethodPolicy = defaultMethodPolicy): SipHeader[] {
  return [
    { name: 'allow', value: policy.allow.join(', ') },
    { name: 'accept', value: policy.accept.join(', ') },
    { name: 'supported', value: policy.supported.join(', ') },
  ];
}
