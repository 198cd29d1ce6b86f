/**
 * name-addr / addr-spec values (From, To, Contact, Route, Record-Route, Refer-To...), Via and
 * CSeq (RFC 3261 20.10, 20.16, 20.42, 25.1). Each parser returns undefined on a syntax error and
 * never throws; the message parser turns that into a 400.
 */
import type { CSeq, NameAddr, Via } from './message.js';
import { isToken, isTokenCharAt, scanParams, scanQuoted, skipWs } from './headers.js';

/** Characters that may never appear inside `<...>` or a bare addr-spec (RFC 4475 3.1.2.14). */
function uriIsClean(uri: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(uri)) return false;
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return false;
  }
  return true;
}

function unquote(q: string): string {
  let out = '';
  for (let i = 1; i < q.length - 1; i++) {
    if (q[i] === '\\') i++;
    out += q[i];
  }
  return out;
}

/**
 * Parse `"Display" <uri>;params`, `token words <uri>;params` or `uri;params`.
 * The display name is returned unquoted and unescaped. In the bare addr-spec form the URI ends
 * at the first ";" (those parameters belong to the header, RFC 3261 20.10) and may not contain
 * "," or "?" (RFC 4475 3.1.2.13). Undefined on malformed input.
 */
export function parseNameAddr(value: string): NameAddr | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  let i = 0;
  let displayName: string | undefined;
  let uri: string;
  if (s[0] === '"') {
    const end = scanQuoted(s, 0);
    if (end < 0) return undefined; // RFC 4475 3.1.2.6: unterminated quoted string
    displayName = unquote(s.slice(0, end));
    i = skipWs(s, end);
    if (s[i] !== '<') return undefined;
  } else {
    const lt = s.indexOf('<');
    if (lt >= 0) {
      // Unquoted display name: *(token LWS). Anything else (",", "@", ":") must be quoted
      // (RFC 4475 3.1.2.15).
      const words = s.slice(0, lt).trim();
      if (words.length > 0) {
        const parts = words.split(/[ \t]+/);
        if (!parts.every(isToken)) return undefined;
        displayName = parts.join(' ');
      }
      i = lt;
    }
  }
  if (s[i] === '<') {
    const gt = s.indexOf('>', i + 1);
    if (gt < 0) return undefined;
    uri = s.slice(i + 1, gt);
    if (!uriIsClean(uri)) return undefined;
    i = gt + 1;
  } else {
    // addr-spec: up to the first ";" or white space
    let j = i;
    while (j < s.length && s[j] !== ';' && s[j] !== ' ' && s[j] !== '\t') j++;
    uri = s.slice(i, j);
    if (!uriIsClean(uri) || uri.includes(',') || uri.includes('?')) return undefined;
    i = j;
  }
  const p = scanParams(s, i);
  if (p === undefined || skipWs(s, p.end) !== s.length) return undefined;
  const na: { -readonly [K in keyof NameAddr]: NameAddr[K] } = { uri, params: p.params };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/**
 * Write a name-addr: the display name always quoted, the URI always in `<>` (safe for any URI).
 * `omit` leaves that parameter out (e.g. `'tag'`), without copying the parameters first.
 */
export function formatNameAddr(na: NameAddr, omit?: string): string {
  let s = '';
  if (na.displayName !== undefined) s += '"' + na.displayName.replace(/["\\]/g, (c) => '\\' + c) + '" ';
  s += '<' + na.uri + '>';
  return s + formatParams(na.params, omit);
}

/** `{ tag: 'x', lr: null }` -> `;tag=x;lr`; without the parameter `omit` when given. */
export function formatParams(params: Readonly<Record<string, string | null>>, omit?: string): string {
  let s = '';
  const keys = Object.keys(params); // same order as Object.entries, without an array per entry
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === omit) continue;
    const v = params[k];
    s += v === null ? ';' + k : ';' + k + '=' + v;
  }
  return s;
}

/** `[A-Za-z0-9._-]`: what a Via sent-by host name or IPv4 address is made of. */
function isHostChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x5f || c === 0x2d;
}

function readToken(s: string, i: number): number {
  while (i < s.length && isTokenCharAt(s, i)) i++;
  return i;
}

/**
 * Parse one Via value: `SIP / 2.0 / UDP host[:port];params` with optional LWS around "/", ":",
 * ";" and "=" (RFC 4475 3.1.1.1). The transport is upper-cased; only SIP/2.0 is accepted.
 */
export function parseVia(value: string): Via | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  let i = readToken(s, 0);
  if (s.slice(0, i).toUpperCase() !== 'SIP') return undefined;
  i = skipWs(s, i);
  if (s[i] !== '/') return undefined;
  i = skipWs(s, i + 1);
  let j = readToken(s, i);
  if (s.slice(i, j) !== '2.0') return undefined;
  i = skipWs(s, j);
  if (s[i] !== '/') return undefined;
  i = skipWs(s, i + 1);
  j = readToken(s, i);
  if (j === i) return undefined;
  const transport = s.slice(i, j).toUpperCase();
  i = j;
  if (s[i] !== ' ' && s[i] !== '\t') return undefined;
  i = skipWs(s, i);
  let host: string;
  if (s[i] === '[') {
    const close = s.indexOf(']', i);
    if (close < 0) return undefined;
    host = s.slice(i, close + 1);
    if (!/^\[[0-9A-Fa-f:.]+\]$/.test(host)) return undefined;
    i = close + 1;
  } else {
    j = i;
    while (j < s.length && isHostChar(s.charCodeAt(j))) j++;
    host = s.slice(i, j);
    if (host.length === 0 || host.startsWith('.') || host.startsWith('-')) return undefined;
    i = j;
  }
  let port: number | undefined;
  const afterHost = skipWs(s, i);
  if (s[afterHost] === ':') {
    i = skipWs(s, afterHost + 1);
    j = i;
    while (j < s.length && s[j] >= '0' && s[j] <= '9') j++;
    if (j === i || j - i > 5) return undefined;
    port = Number(s.slice(i, j));
    if (port > 65535) return undefined;
    i = j;
  }
  const p = scanParams(s, i);
  if (p === undefined || skipWs(s, p.end) !== s.length) return undefined;
  const via: { -readonly [K in keyof Via]: Via[K] } = { transport, host, params: p.params };
  if (port !== undefined) via.port = port;
  return via;
}

/** Write a Via value: `SIP/2.0/UDP host:port;branch=...`. */
export function formatVia(v: Via): string {
  return `SIP/2.0/${v.transport} ${v.host}${v.port !== undefined ? ':' + String(v.port) : ''}${formatParams(v.params)}`;
}

/**
 * Parse `CSeq: 1*DIGIT LWS Method`. The number must fit in 32 bits (RFC 3261 8.1.1.5;
 * RFC 4475 3.1.2.4 sends 2**65); leading zeros are allowed (RFC 4475 3.1.1.1: `0009`).
 */
export function parseCSeq(value: string): CSeq | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{1,20})[ \t]+(\S+)$/.exec(value.trim());
  if (m === null || !isToken(m[2])) return undefined;
  const seq = Number(m[1]);
  if (!Number.isSafeInteger(seq) || seq > 0xffffffff) return undefined;
  return { seq, method: m[2] };
}

/** Write a CSeq value. */
export function formatCSeq(c: CSeq): string {
  return `${c.seq} ${c.method}`;
}
