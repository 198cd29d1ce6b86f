/**
 * SIP, SIPS and tel URIs (RFC 3261 19.1, RFC 3966): parse, format, address-of-record.
 * Escapes are decoded in user, password, parameters and headers, and re-applied when writing.
 */
import type { SipUri } from './message.js';
import { setParam } from './headers.js';

const ALNUM = /[A-Za-z0-9]/;
const MARK = new Set("-_.!~*'()");
/** user-unreserved (RFC 3261 25.1) */
const USER_EXTRA = new Set('&=+$,;?/');
/** password: unreserved / escaped / "&" / "=" / "+" / "$" / "," */
const PASSWORD_EXTRA = new Set('&=+$,');
/** param-unreserved */
const PARAM_EXTRA = new Set('[]/:&+$');
/** hnv-unreserved */
const HEADER_EXTRA = new Set('[]/?:+$');

/** alphanum / mark by char code (a table: this runs for every character of every URI). */
const UNRESERVED: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of MARK) t[ch.charCodeAt(0)] = 1;
  return t;
})();

function isUnreserved(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return ch.length === 1 ? c < 128 && UNRESERVED[c] === 1 : ALNUM.test(ch) || MARK.has(ch);
}

/** Decode %HH escapes; undefined when a `%` is not followed by two hex digits. */
function unescape(s: string): string | undefined {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(ch, 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function escape(s: string, extra: ReadonlySet<string>): string {
  let out = '';
  for (const ch of s) {
    if (isUnreserved(ch) || extra.has(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Only printable ASCII other than the delimiters that can never appear in a URI. */
function hasForbiddenChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x5c || c === 0x60 || c === 0x7b || c === 0x7d || c === 0x7c || c === 0x5e) return true;
  }
  return false;
}

/** Check that the raw text only uses the allowed characters (besides escapes). */
function allowed(s: string, extra: ReadonlySet<string>): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && UNRESERVED[c] === 1) continue;
    // Anything else is one UTF-16 unit that must be in `extra` or be "%" (a non-ASCII character
    // never is: the same answer as iterating by code point).
    const ch = s[i];
    if (!(extra.has(ch) || ch === '%')) return false;
  }
  return true;
}

/** RFC 3261 `hostname` / IPv4address / IPv6reference (brackets kept). */
function validHost(host: string): boolean {
  if (host.startsWith('[')) return /^\[[0-9A-Fa-f:.]+\]$/.test(host) && host.includes(':');
  // Hostnames: labels of alphanum and "-" (not at either end) separated by dots, optional
  // trailing dot; "_" is tolerated because it is common in service names. Checked label by label
  // with a linear regex (a single nested-quantifier regex backtracks quadratically).
  if (host.length === 0 || host.length > 255) return false;
  // Labels: non-empty runs of [A-Za-z0-9_-], not starting or ending with "-", one pass.
  const end = host.endsWith('.') ? host.length - 1 : host.length;
  let labelStart = 0;
  for (let i = 0; i <= end; i++) {
    if (i === end || host.charCodeAt(i) === 0x2e) {
      if (i === labelStart || host.charCodeAt(labelStart) === 0x2d || host.charCodeAt(i - 1) === 0x2d) return false;
      labelStart = i + 1;
      continue;
    }
    const c = host.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2d)) return false;
  }
  return true;
}

/** The scheme of any absolute URI (`nobodyKnowsThisScheme:x` -> `nobodyknowsthisscheme`), lower-case. */
export function uriScheme(text: string): string | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  return m === null ? undefined : m[1].toLowerCase();
}

function parseParamsAndHeaders(
  rest: string,
): { params: Record<string, string | null>; headers: Record<string, string> } | undefined {
  const params: Record<string, string | null> = {};
  const headers: Record<string, string> = {};
  const q = rest.indexOf('?');
  const paramPart = q < 0 ? rest : rest.slice(0, q);
  if (paramPart.length > 0) {
    // paramPart starts with ";"
    for (const p of paramPart.slice(1).split(';')) {
      const eq = p.indexOf('=');
      const rawName = eq < 0 ? p : p.slice(0, eq);
      const rawValue = eq < 0 ? null : p.slice(eq + 1);
      if (rawName.length === 0 || !allowed(rawName, PARAM_EXTRA)) return undefined;
      if (rawValue !== null && !allowed(rawValue, PARAM_EXTRA)) return undefined;
      const name = unescape(rawName);
      const value = rawValue === null ? null : unescape(rawValue);
      if (name === undefined || value === undefined) return undefined;
      setParam(params, name.toLowerCase(), value);
    }
  }
  if (q >= 0) {
    for (const h of rest.slice(q + 1).split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0) return undefined;
      const rawName = h.slice(0, eq);
      const rawValue = h.slice(eq + 1);
      if (!allowed(rawName, HEADER_EXTRA) || !allowed(rawValue, HEADER_EXTRA)) return undefined;
      const name = unescape(rawName);
      const value = unescape(rawValue);
      if (name === undefined || value === undefined || name.length === 0) return undefined;
      if (!Object.hasOwn(headers, name)) {
        Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
      }
    }
  }
  return { params, headers };
}

/**
 * Parse a `sip:`, `sips:` or `tel:` URI. Undefined for any other scheme (the caller decides:
 * a Request-URI with an unknown scheme is answered 416, RFC 3261 8.2.2.1) and for garbage.
 * Never throws.
 */
export function parseUri(text: string): SipUri | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 8192 || hasForbiddenChar(text)) return undefined;
  const scheme = uriScheme(text);
  if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') return undefined;
  const rest = text.slice(scheme.length + 1);
  if (scheme === 'tel') {
    // RFC 3966: telephone-subscriber *par; the number is the "user", the host is empty.
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (!/^(\+[0-9().-]*[0-9][0-9().-]*|[0-9A-Fa-f*#().-]*[0-9A-Fa-f*#][0-9A-Fa-f*#().-]*)$/.test(number)) return undefined;
    if (rest.includes('?')) return undefined;
    const ph = parseParamsAndHeaders(semi < 0 ? '' : rest.slice(semi));
    if (ph === undefined) return undefined;
    return { scheme, user: number, host: '', params: ph.params, headers: ph.headers };
  }
  // userinfo ends at the first "@": ";", "?" and ":" are legal inside it (RFC 4475 3.1.1.2, 3.1.1.9),
  // while "@" never is unescaped.
  const at = rest.indexOf('@');
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (rawUser.length === 0 || !allowed(rawUser, USER_EXTRA)) return undefined;
    user = unescape(rawUser);
    if (user === undefined) return undefined;
    if (colon >= 0) {
      const rawPassword = userinfo.slice(colon + 1);
      if (!allowed(rawPassword, PASSWORD_EXTRA)) return undefined;
      password = unescape(rawPassword);
      if (password === undefined) return undefined;
    }
  }
  let hostEnd = hostPart.length;
  for (let i = 0; i < hostPart.length; i++) {
    if (hostPart[i] === ';' || hostPart[i] === '?') {
      hostEnd = i;
      break;
    }
  }
  const hostport = hostPart.slice(0, hostEnd);
  let host: string;
  let portText: string | undefined;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return undefined;
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after.length > 0) {
      if (after[0] !== ':') return undefined;
      portText = after.slice(1);
    }
  } else {
    const colon = hostport.indexOf(':');
    host = colon < 0 ? hostport : hostport.slice(0, colon);
    if (colon >= 0) portText = hostport.slice(colon + 1);
  }
  if (!validHost(host)) return undefined;
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port > 65535) return undefined;
  }
  const ph = parseParamsAndHeaders(hostPart.slice(hostEnd));
  if (ph === undefined) return undefined;
  const uri: { -readonly [K in keyof SipUri]: SipUri[K] } = { scheme, host, params: ph.params, headers: ph.headers };
  if (user !== undefined) uri.user = user;
  if (password !== undefined) uri.password = password;
  if (port !== undefined) uri.port = port;
  return uri;
}

/** Write a URI back, escaping what must be escaped in each part. Inverse of `parseUri`. */
export function formatUri(uri: SipUri): string {
  let s = uri.scheme + ':';
  if (uri.scheme === 'tel') {
    s += uri.user ?? '';
  } else {
    if (uri.user !== undefined) {
      s += escape(uri.user, USER_EXTRA);
      if (uri.password !== undefined) s += ':' + escape(uri.password, PASSWORD_EXTRA);
      s += '@';
    }
    s += uri.host;
    if (uri.port !== undefined) s += ':' + String(uri.port);
  }
  for (const [k, v] of Object.entries(uri.params)) {
    s += ';' + escape(k, PARAM_EXTRA);
    if (v !== null) s += '=' + escape(v, PARAM_EXTRA);
  }
  const hs = Object.entries(uri.headers);
  if (hs.length > 0) s += '?' + hs.map(([k, v]) => escape(k, HEADER_EXTRA) + '=' + escape(v, HEADER_EXTRA)).join('&');
  return s;
}

/**
 * The address-of-record key of a URI: `sip:user@host` with the host lower-cased and no port,
 * parameters or headers; `sips:` becomes `sip:` so one mailbox serves both (RFC 3261 10.3 step 5
 * compares AoRs after canonicalization). `tel:+123` stays `tel:+123`. Undefined for garbage.
 */
export function aorOf(uri: SipUri | string): string | undefined {
  const u = typeof uri === 'string' ? parseUri(uri) : uri;
  if (u === undefined) return undefined;
  if (u.scheme === 'tel') return 'tel:' + (u.user ?? '');
  const host = u.host.toLowerCase().replace(/\.$/, '');
  return 'sip:' + (u.user !== undefined ? escape(u.user, USER_EXTRA) + '@' : '') + host;
}
