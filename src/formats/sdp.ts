import * as sdpTransform from 'sdp-transform';
import { ProtocolError } from '../errors.js';

/** RFC 6135 `a=setup` roles (plus RFC 4145 holdconn). */
export type MsrpSetup = 'active' | 'passive' | 'actpass' | 'holdconn';

/** The MSRP media line of an offer or answer, read from `m=message` and its attributes. */
export interface MsrpMediaDescription {
  /** Index of the m-line in the SDP (answers keep m-line order, RFC 3264 section 6). */
  readonly mediaIndex: number;
  readonly port: number;
  readonly protocol: 'TCP/MSRP' | 'TCP/TLS/MSRP';
  readonly tls: boolean;
  /** Connection address (media c= or session c=), when present. */
  readonly address: string | undefined;
  /** `a=path` URIs, raw (RFC 4975 section 8.1); the last one is the peer itself. */
  readonly path: readonly string[];
  readonly acceptTypes: readonly string[];
  readonly acceptWrappedTypes: readonly string[];
  readonly maxSize: number | undefined;
  /** `a=setup`; absent means the RFC 4975 default (the offerer connects). */
  readonly setup: MsrpSetup | undefined;
  /** RFC 7701 `a=chatroom` capability tokens (e.g. nickname, private-messages). */
  readonly chatroom: readonly string[] | undefined;
}

const MAX_SDP_BYTES = 16 * 1024;

/**
 * Reads the first usable `m=message` line (TCP/MSRP or TCP/TLS/MSRP, port not 0, with a
 * path). A ProtocolError with SIP status 488 when there is none or the SDP is unusable.
 */
export function parseMsrpOffer(sdpText: string): MsrpMediaDescription | ProtocolError {
  if (Buffer.byteLength(sdpText) > MAX_SDP_BYTES) return na('SDP too large');
  let parsed: sdpTransform.SessionDescription;
  try {
    parsed = sdpTransform.parse(sdpText);
  } catch {
    return na('unparsable SDP');
  }
  const media = parsed.media ?? [];
  for (let i = 0; i < media.length; i++) {
    const m = media[i];
    if (m.type !== 'message' || m.port === 0) continue;
    if (m.protocol !== 'TCP/MSRP' && m.protocol !== 'TCP/TLS/MSRP') continue;
    const attrs = rawAttributes(m);
    const path = (attrs.get('path') ?? '').split(/\s+/).filter((s) => s !== '');
    if (path.length === 0) continue;
    const maxSize = attrs.get('max-size');
    const setup = m.setup as string | undefined;
    return {
      mediaIndex: i,
      port: m.port,
      protocol: m.protocol,
      tls: m.protocol === 'TCP/TLS/MSRP',
      address: m.connection?.ip ?? parsed.connection?.ip,
      path,
      acceptTypes: tokens(attrs.get('accept-types')),
      acceptWrappedTypes: tokens(attrs.get('accept-wrapped-types')),
      maxSize: maxSize !== undefined && /^[0-9]{1,15}$/.test(maxSize.trim()) ? Number(maxSize.trim()) : undefined,
      setup: setup === 'active' || setup === 'passive' || setup === 'actpass' || setup === 'holdconn' ? setup : undefined,
      chatroom: attrs.has('chatroom') ? tokens(attrs.get('chatroom')) : undefined,
    };
  }
  return na('no usable m=message line');
}

/** The local side of an offer or answer. */
export interface MsrpLocalMedia {
  /** IP address for c= and o=. */
  address: string;
  port: number;
  /** Our `a=path` (one URI: Parley uses no relays). */
  path: string;
  acceptTypes: readonly string[];
  acceptWrappedTypes?: readonly string[];
  maxSize?: number;
  tls?: boolean;
  chatroom?: readonly string[];
  /** o= session id and version (default: current time). */
  sessionId?: number;
  sessionVersion?: number;
  username?: string;
}

/** Builds an MSRP offer (RFC 4975 section 8, RFC 6135 `a=setup`, default actpass). */
export function buildMsrpOffer(local: MsrpLocalMedia & { setup?: MsrpSetup }): string {
  return writeSdp(local, local.setup ?? 'actpass');
}

/**
 * Builds the answer to an offer. The setup role follows RFC 6135 section 4.2: the answerer
 * takes the opposite of an active/passive offer; for actpass (or no a=setup, where
 * RFC 4975 makes the offerer connect) Parley is passive unless `local.setup` says otherwise.
 */
export function buildMsrpAnswer(
  offer: MsrpMediaDescription,
  local: MsrpLocalMedia & { setup?: 'active' | 'passive' },
): string {
  return writeSdp({ ...local, tls: local.tls ?? offer.tls }, answerSetup(offer.setup, local.setup));
}

/** The answerer's role for an offered role (RFC 6135 section 4.2). */
export function answerSetup(offered: MsrpSetup | undefined, preferred?: 'active' | 'passive'): 'active' | 'passive' {
  if (offered === 'active') return 'passive';
  if (offered === 'passive') return 'active';
  if (offered === 'actpass') return preferred ?? 'passive';
  return 'passive';
}

/** Result of accept-types negotiation. */
export interface NegotiatedTypes {
  readonly acceptTypes: readonly string[];
  readonly acceptWrappedTypes: readonly string[];
}

/**
 * Intersects offered and supported accept-types (RFC 4975 section 8.6): `*` matches any
 * type, `type/*` any subtype. message/cpim is kept only when some wrapped type is common
 * (accept-wrapped-types, where an absent offer list means `*`). No common type -> 488.
 */
export function negotiateAcceptTypes(
  offered: { acceptTypes: readonly string[]; acceptWrappedTypes?: readonly string[] },
  supported: { acceptTypes: readonly string[]; acceptWrappedTypes?: readonly string[] },
): NegotiatedTypes | ProtocolError {
  const types = intersect(offered.acceptTypes, supported.acceptTypes);
  let wrapped: string[] = [];
  const cpim = types.findIndex((t) => t.toLowerCase() === 'message/cpim');
  if (cpim >= 0) {
    const ow = offered.acceptWrappedTypes !== undefined && offered.acceptWrappedTypes.length > 0 ? offered.acceptWrappedTypes : ['*'];
    wrapped = intersect(ow, supported.acceptWrappedTypes ?? ['*']);
    if (wrapped.length === 0) types.splice(cpim, 1);
  }
  if (types.length === 0) return na('no common accept-types');
  return { acceptTypes: types, acceptWrappedTypes: wrapped };
}

function intersect(offered: readonly string[], supported: readonly string[]): string[] {
  const out: string[] = [];
  const add = (t: string) => {
    if (!out.some((o) => o.toLowerCase() === t.toLowerCase())) out.push(t);
  };
  for (const s of supported) {
    for (const o of offered) {
      if (matches(o, s)) add(isWild(s) ? o : s);
      else if (matches(s, o)) add(s);
    }
  }
  return out;
}

/** True when an MSRP accept-types list (RFC 4975 8.6: `*`, `type/*` or a type) takes `type`. */
export function acceptTypesTake(types: readonly string[], type: string): boolean {
  return types.some((p) => matches(p, type));
}

/** True when `pattern` (possibly `*` or `type/*`) covers `type`. */
function matches(pattern: string, type: string): boolean {
  const p = pattern.toLowerCase();
  const t = type.toLowerCase();
  if (p === '*' || p === t) return true;
  return p.endsWith('/*') && t.startsWith(p.slice(0, -1)) && !t.endsWith('/*');
}

function isWild(t: string): boolean {
  return t === '*' || t.endsWith('/*');
}

function writeSdp(local: MsrpLocalMedia, setup: MsrpSetup): string {
  const ip = local.address;
  const ipVer = ip.includes(':') ? 6 : 4;
  const now = Math.floor(Date.now() / 1000);
  const invalid: Array<{ value: string }> = [
    { value: `accept-types:${local.acceptTypes.join(' ')}` },
  ];
  if (local.acceptWrappedTypes !== undefined && local.acceptWrappedTypes.length > 0) {
    invalid.push({ value: `accept-wrapped-types:${local.acceptWrappedTypes.join(' ')}` });
  }
  if (local.maxSize !== undefined) invalid.push({ value: `max-size:${local.maxSize}` });
  invalid.push({ value: `path:${local.path}` });
  if (local.chatroom !== undefined) invalid.push({ value: `chatroom:${local.chatroom.join(' ')}` });
  const desc: sdpTransform.SessionDescription = {
    version: 0,
    origin: {
      username: local.username ?? '-',
      sessionId: local.sessionId ?? now,
      sessionVersion: local.sessionVersion ?? now,
      netType: 'IN',
      ipVer,
      address: ip,
    },
    name: '-',
    connection: { version: ipVer, ip },
    timing: { start: 0, stop: 0 },
    media: [
      {
        rtp: [],
        fmtp: [],
        type: 'message',
        port: local.port,
        protocol: local.tls === true ? 'TCP/TLS/MSRP' : 'TCP/MSRP',
        payloads: '*',
        setup,
        direction: 'sendrecv',
        invalid,
      },
    ],
  };
  return sdpTransform.write(desc);
}

/** The attributes sdp-transform does not type land in `invalid` as `name:value` strings. */
function rawAttributes(m: { invalid?: Array<{ value: string }> }): Map<string, string> {
  const out = new Map<string, string>();
  for (const { value } of m.invalid ?? []) {
    const c = value.indexOf(':');
    const name = (c < 0 ? value : value.slice(0, c)).trim().toLowerCase();
    if (!out.has(name)) out.set(name, c < 0 ? '' : value.slice(c + 1).trim());
  }
  return out;
}

function tokens(v: string | undefined): string[] {
  return (v ?? '').split(/\s+/).filter((s) => s !== '');
}

function na(m: string): ProtocolError {
  return new ProtocolError('SDP_NOT_ACCEPTABLE', 488, m);
}
