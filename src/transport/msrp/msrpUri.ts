import { ProtocolError } from '../../errors.js';

/**
 * An MSRP URI, RFC 4975 section 9:
 * `msrp[s]://[userinfo@]host[:port]/session-id;transport *( ";" URI-parameter )`.
 */
export interface MsrpUri {
  readonly scheme: 'msrp' | 'msrps';
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  /** The shared secret naming the session (RFC 4975 section 14.1). */
  readonly sessionId: string;
  /** `tcp` (or another transport token), lower-cased. */
  readonly transport: string;
  /** Further `;name[=value]` parameters, verbatim. */
  readonly params: readonly string[];
  /** The URI as received. */
  readonly raw: string;
}

// unreserved / pct-encoded / sub-delims / ":" / "@" minus ";" and "/" (session-id chars, section 9).
const SESSION_ID = /^[A-Za-z0-9\-._~!$&'()*+,=:@%]+$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%]+)$/;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/** Parses one MSRP URI; a ProtocolError (400) when it does not follow the grammar. */
export function parseMsrpUri(raw: string): MsrpUri | ProtocolError {
  let scheme: 'msrp' | 'msrps';
  let rest: string;
  const lower = raw.slice(0, 8).toLowerCase();
  if (lower.startsWith('msrps://')) {
    scheme = 'msrps';
    rest = raw.slice(8);
  } else if (lower.startsWith('msrp://')) {
    scheme = 'msrp';
    rest = raw.slice(7);
  } else return bad(raw);
  const slash = rest.indexOf('/');
  if (slash <= 0) return bad(raw);
  let authority = rest.slice(0, slash);
  const tail = rest.slice(slash + 1);
  let user: string | undefined;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    user = authority.slice(0, at);
    authority = authority.slice(at + 1);
  }
  let host = authority;
  let port: number | undefined;
  const colon = authority.lastIndexOf(':');
  if (colon >= 0 && colon > authority.lastIndexOf(']')) {
    host = authority.slice(0, colon);
    const p = authority.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(p) || Number(p) > 65535) return bad(raw);
    port = Number(p);
  }
  if (!HOST.test(host)) return bad(raw);
  const parts = tail.split(';');
  const sessionId = parts[0];
  if (sessionId === '' || !SESSION_ID.test(sessionId)) return bad(raw);
  // The transport parameter is mandatory (section 9: "msrp-uri = ... ;" transport).
  if (parts.length < 2 || !TOKEN.test(parts[1])) return bad(raw);
  return {
    scheme,
    user,
    host,
    port,
    sessionId,
    transport: parts[1].toLowerCase(),
    params: parts.slice(2),
    raw,
  };
}

/** Parses a To-Path / From-Path value: one or more URIs separated by SP. */
export function parseMsrpPath(value: string): readonly MsrpUri[] | ProtocolError {
  let p = parsedPaths.get(value);
  if (p === undefined) {
    if (parsedPaths.size >= MAX_REMEMBERED_PATHS) parsedPaths.clear();
    parsedPaths.set(value, (p = parsePath(value)));
  }
  return p;
}

/**
 * The paths parsed last: every SEND of a session repeats the same To-Path and From-Path, and
 * a room's participant receives 99 of them per message (bench/room.ts). The parsed URIs are
 * read only. Bounded.
 */
const parsedPaths = new Map<string, readonly MsrpUri[] | ProtocolError>();
const MAX_REMEMBERED_PATHS = 4096;

function parsePath(value: string): readonly MsrpUri[] | ProtocolError {
  const out: MsrpUri[] = [];
  for (const part of value.split(' ')) {
    if (part === '') continue;
    const u = parseMsrpUri(part);
    if (u instanceof ProtocolError) return u;
    out.push(u);
  }
  if (out.length === 0) return bad(value);
  return out;
}

/** Formats a URI from its parts (the canonical form used in generated paths). */
export function formatMsrpUri(u: Omit<MsrpUri, 'raw'>): string {
  const host = u.host.includes(':') && !u.host.startsWith('[') ? `[${u.host}]` : u.host;
  const auth = `${u.user !== undefined ? `${u.user}@` : ''}${host}${u.port !== undefined ? `:${u.port}` : ''}`;
  const params = u.params.length > 0 ? `;${u.params.join(';')}` : '';
  return `${u.scheme}://${auth}/${u.sessionId};${u.transport}${params}`;
}

/**
 * RFC 4975 section 6.1 URI comparison: scheme, host and transport case-insensitive, port
 * compared with the default 2855 filled in, session-id case-sensitive; userinfo and other
 * parameters ignored.
 */
export function msrpUriEquals(a: MsrpUri, b: MsrpUri): boolean {
  return (
    a.scheme === b.scheme &&
    a.host.toLowerCase() === b.host.toLowerCase() &&
    (a.port ?? 2855) === (b.port ?? 2855) &&
    a.sessionId === b.sessionId &&
    a.transport === b.transport
  );
}

/** True when both paths have the same length and pairwise equal URIs. */
export function msrpPathEquals(a: readonly MsrpUri[], b: readonly MsrpUri[]): boolean {
  return a.length === b.length && a.every((u, i) => msrpUriEquals(u, b[i]));
}

function bad(raw: string): ProtocolError {
  return new ProtocolError('MSRP_BAD_URI', 400, `malformed MSRP URI: ${raw.slice(0, 80)}`);
}
