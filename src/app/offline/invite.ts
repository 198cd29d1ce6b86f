/**
 * Reading an MSRP chat INVITE for an offline session: the callee's AoR (Request-URI when it
 * is an AoR of a served domain, else To, as msilo does), the caller's identity
 * (P-Asserted-Identity when the request comes through a trusted proxy, else From), and the
 * MSRP offer negotiated against what Parley takes.
 */
import { ProtocolError } from '../../errors.js';
import { negotiateAcceptTypes, parseMsrpOffer, type MsrpMediaDescription, type NegotiatedTypes } from '../../formats/sdp.js';
import type { SipRequest } from '../../transport/sip/message.js';
import { getHeader } from '../../transport/sip/headers.js';
import { formatNameAddr, parseNameAddr } from '../../transport/sip/nameAddr.js';
import { aorOf, parseUri } from '../../transport/sip/uri.js';
import { servedAor } from '../mailbox/request.js';

/** What an offline session accepts: anything a chat client writes, CPIM-wrapped or not. */
export const SUPPORTED_TYPES = { acceptTypes: ['message/cpim', 'text/plain', '*'], acceptWrappedTypes: ['*'] } as const;

export interface OfflineInvite {
  readonly callee: string;
  /** Caller identity URI (AoR form when it is a SIP URI). */
  readonly caller: string;
  /** The From (or asserted identity) as a name-addr without tag: the stored sender. */
  readonly from: string;
  /** The To as a name-addr without tag. */
  readonly to: string;
  readonly callId: string;
  readonly offer: MsrpMediaDescription;
  readonly types: NegotiatedTypes;
}

/** Same URI for our purposes: scheme, user and host, case-insensitive host. */
export function sameAddress(a: string, b: string, domains: readonly string[]): boolean {
  return (servedAor(a, domains) ?? a.toLowerCase()) === (servedAor(b, domains) ?? b.toLowerCase());
}

/** The callee AoR: Request-URI when it is an AoR of `domains`, else To. */
export function calleeOf(req: SipRequest, domains: readonly string[]): string | undefined {
  const to = getHeader(req, 'to');
  return servedAor(req.uri, domains) ?? servedAor(to === undefined ? undefined : parseNameAddr(to)?.uri, domains);
}

function withoutTag(value: string | undefined): string | undefined {
  const na = value === undefined ? undefined : parseNameAddr(value);
  return na === undefined ? undefined : formatNameAddr(na, 'tag');
}

/**
 * The caller's identity: the first P-Asserted-Identity when `trustAsserted` (RFC 3325: only
 * from a trusted proxy), else From. Returns the URI in AoR form and the name-addr to store.
 */
export function callerOf(req: SipRequest, trustAsserted: boolean): { uri: string; nameAddr: string } | undefined {
  const pai = trustAsserted ? getHeader(req, 'p-asserted-identity') : undefined;
  const first = pai?.split(',').map((s) => s.trim()).find((s) => parseNameAddr(s)?.uri.startsWith('sip'));
  const value = first ?? getHeader(req, 'from');
  const na = value === undefined ? undefined : parseNameAddr(value);
  const nameAddr = withoutTag(value);
  if (na === undefined || nameAddr === undefined) return undefined;
  const parsed = parseUri(na.uri);
  const aor = parsed !== undefined && parsed.scheme !== 'tel' ? aorOf(parsed) : undefined;
  return { uri: aor ?? na.uri, nameAddr };
}

const bad = (code: string, status: number, text: string) => new ProtocolError(code, status, text);

/** Reads the INVITE; throws ProtocolError (404 not served, 400 bad headers, 488 no usable MSRP offer). */
export function parseOfflineInvite(req: SipRequest, domains: readonly string[], trustAsserted: boolean): OfflineInvite {
  const callee = calleeOf(req, domains);
  if (callee === undefined) throw bad('OFFLINE_NOT_SERVED', 404, 'Not Found - no such user');
  const caller = callerOf(req, trustAsserted);
  const to = withoutTag(getHeader(req, 'to'));
  const callId = getHeader(req, 'call-id');
  if (caller === undefined || to === undefined || callId === undefined) throw bad('OFFLINE_BAD_HEADERS', 400, 'Bad Request - From, To or Call-ID');
  return { callee, caller: caller.uri, from: caller.nameAddr, to, callId, ...msrpOfferOf(req, 'OFFLINE_NO_SDP') };
}

/** The INVITE's MSRP offer and the types Parley takes from it; throws ProtocolError 488 (`code` when there is no SDP). */
export function msrpOfferOf(req: SipRequest, code: string): { offer: MsrpMediaDescription; types: NegotiatedTypes } {
  if (!(getHeader(req, 'content-type') ?? '').toLowerCase().startsWith('application/sdp')) throw bad(code, 488, 'Not Acceptable Here - an MSRP offer is required');
  const offer = parseMsrpOffer(req.body.toString('utf8'));
  if (offer instanceof ProtocolError) throw offer;
  const types = negotiateAcceptTypes(offer, SUPPORTED_TYPES);
  if (types instanceof ProtocolError) throw types;
  return { offer, types };
}
