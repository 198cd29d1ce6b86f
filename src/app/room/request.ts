/**
 * Reading SIP requests addressed to chat rooms: which room (Request-URI in a conference
 * domain, else To; or any URI when a proxy routes by `X-Parley-App: conference`), who is
 * asking (P-Asserted-Identity from a trusted proxy, else From), and the MSRP chat offer of a
 * join INVITE (RFC 4975 section 8, RFC 7701).
 */
import { ProtocolError } from '../../errors.js';
import type { CpimMessage } from '../../formats/cpim.js';
import { conferenceEvents } from '../../machines/conference.js';
import type { MessageReceived } from '../../machines/roomRelay.js';
import { negotiateAcceptTypes, parseMsrpOffer, type MsrpMediaDescription, type NegotiatedTypes } from '../../formats/sdp.js';
import { identityOf } from '../../machines/policy.js';
import type { SipRequest } from '../../transport/sip/message.js';
import { getHeader } from '../../transport/sip/headers.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import { inviteBodies } from '../../transport/sip/recipientList.js';
import { parseUri } from '../../transport/sip/uri.js';

/** The header a proxy may set to route a request to an application by name. */
export const APP_HEADER = 'x-parley-app';

/** What the room accepts in SEND bodies and relays: CPIM around anything (RFC 4975 8.6). */
export const ROOM_ACCEPT_TYPES = ['message/cpim'] as const;
export const ROOM_WRAPPED_TYPES = ['text/plain', 'text/html', 'application/im-iscomposing+xml', '*'] as const;

/** RFC 7701 section 6.1 capabilities of this focus. */
export const CHATROOM_CAPABILITIES = ['nickname', 'private-messages'] as const;

function inDomains(uri: string | undefined, domains: readonly string[]): boolean {
  const u = uri === undefined ? undefined : parseUri(uri);
  return u !== undefined && u.scheme !== 'tel' && u.user !== undefined && domains.includes(u.host.toLowerCase());
}

function toUri(req: SipRequest): string | undefined {
  const to = getHeader(req, 'to');
  return to === undefined ? undefined : parseNameAddr(to)?.uri;
}

/** True when the request asks for the conference application by header. */
export function routedByHeader(req: SipRequest): boolean {
  return (getHeader(req, APP_HEADER) ?? '').trim().toLowerCase() === 'conference';
}

/**
 * The room a request is for, as its comparable identity (`sip:dev@conference.example`), or
 * undefined when it is not for a room.
 */
export function roomOf(req: SipRequest, domains: readonly string[]): string | undefined {
  if (inDomains(req.uri, domains)) return identityOf(req.uri);
  const to = toUri(req);
  if (inDomains(to, domains)) return identityOf(to as string);
  if (routedByHeader(req)) {
    // A proxy routing by header may have rewritten the Request-URI: To names the room.
    const u = to ?? req.uri;
    return parseUri(u)?.user !== undefined ? identityOf(u) : undefined;
  }
  return undefined;
}

/**
 * Who sent the request: P-Asserted-Identity when `trustAsserted` (RFC 3325: only within a trust
 * domain, i.e. when SIP is taken from trusted peers only), else From.
 */
export function requesterOf(req: SipRequest, trustAsserted = true): { uri: string; displayName?: string } {
  const pai = trustAsserted ? getHeader(req, 'p-asserted-identity') : undefined;
  const na = parseNameAddr(pai ?? getHeader(req, 'from') ?? '');
  if (na === undefined) throw new ProtocolError('ROOM_BAD_FROM', 400, 'Bad Request - malformed From');
  return { uri: na.uri, ...(na.displayName ? { displayName: na.displayName } : {}) };
}

/** CPIM headers the room sets itself; the sender's others (NS, imdn.*, Subject) are relayed as they are. */
const ROOM_SET_HEADERS = new Set(['from', 'to', 'cc', 'datetime']);
/** At most this many kept headers, each at most 1 KiB (they go into history rows). */
const MAX_KEPT_HEADERS = 16;

export function keptHeaders(headers: ReadonlyArray<{ name: string; value: string }>): { headers?: Array<{ name: string; value: string }> } {
  const kept = headers.filter((h) => !ROOM_SET_HEADERS.has(h.name.toLowerCase()) && h.value.length <= 1024).slice(0, MAX_KEPT_HEADERS);
  return kept.length > 0 ? { headers: kept.map((h) => ({ name: h.name, value: h.value })) } : {};
}

/**
 * The room event for a CPIM message from `participantId`: sender, recipients, time, type and
 * the headers the room keeps, the body base64 (`body` given: a streamed message's first chunk
 * carries only part of it).
 */
export function messageFromCpim(cpim: CpimMessage, participantId: string, ref: string, at: number, body = cpim.body.toString('base64')): MessageReceived {
  return conferenceEvents.messageReceived({
    participantId,
    ref,
    from: cpim.from?.uri ?? '',
    to: cpim.to.map((a) => a.uri),
    ...(cpim.dateTime !== undefined ? { dateTime: cpim.dateTime } : {}),
    contentType: cpim.contentType ?? 'text/plain',
    body,
    at,
    ...keptHeaders(cpim.headers),
  });
}

/** A usable chat offer: its media line and the negotiated types. */
export interface ChatOffer {
  readonly media: MsrpMediaDescription;
  readonly types: NegotiatedTypes;
}

/** What a join INVITE carries: the chat offer, and the RFC 5366 dial-out list (empty without one). */
export interface JoinBodies {
  readonly offer: ChatOffer;
  readonly dialOut: string[];
}

/**
 * The bodies of a join INVITE (`inviteBodies`): an `application/sdp` offer, or a
 * `multipart/mixed` body holding it and possibly a recipient list (RFC 5366). 488 when there is
 * no SDP, no usable `m=message` line, or the offer cannot take CPIM (every relayed message is
 * CPIM: From carries the sender); 400 for a malformed multipart body or list, 413 over the
 * list's limits (each entry becomes a REFER).
 */
export function readJoin(req: SipRequest): JoinBodies {
  const bodies = inviteBodies(req);
  if (bodies instanceof ProtocolError) {
    const tooLarge = bodies.status === 413;
    throw new ProtocolError('ROOM_BAD_BODY', tooLarge ? 413 : 400, `${tooLarge ? 'Request Entity Too Large' : 'Bad Request'} - ${bodies.message}`);
  }
  const sdp = bodies.sdp?.toString('utf8');
  if (sdp === undefined || sdp.trim() === '') throw new ProtocolError('ROOM_NO_OFFER', 488, 'Not Acceptable Here - no SDP offer');
  const media = parseMsrpOffer(sdp);
  if (media instanceof ProtocolError) throw new ProtocolError('ROOM_NO_OFFER', 488, `Not Acceptable Here - ${media.message}`);
  const types = negotiateAcceptTypes(media, { acceptTypes: ROOM_ACCEPT_TYPES, acceptWrappedTypes: ROOM_WRAPPED_TYPES });
  if (types instanceof ProtocolError || !types.acceptTypes.some((t) => t.toLowerCase() === 'message/cpim')) {
    throw new ProtocolError('ROOM_NO_CPIM', 488, 'Not Acceptable Here - the room relays message/cpim');
  }
  return { offer: { media, types }, dialOut: bodies.recipients?.entries.map((e) => e.uri) ?? [] };
}
