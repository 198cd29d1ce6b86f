/**
 * Header helpers shared by the parser, the serializer and the layers above: canonical names,
 * look-ups, immutable edits, comma-list splitting and generic `;name=value` parameters.
 */
import type { SipHeader } from './message.js';
import { compactHeaderNames } from './compact.js';

/**
 * @internal RFC 3261 25.1 `token` characters by char code (ASCII only): a table look-up, because
 * this runs for every character of every header name and parameter of every message.
 */
const TOKEN_CHARS: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  for (const ch of '-.!%*_+`\'~') t[ch.charCodeAt(0)] = 1;
  return t;
})();

/**
 * @internal RFC 3261 25.1 `token` character (alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+"
 * / "`" / "'" / "~") at `i` of `s` (false past the end).
 */
export function isTokenCharAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i); // NaN past the end: fails the comparison
  return c < 128 && TOKEN_CHARS[c] === 1;
}

/** True when `s` is a non-empty RFC 3261 token (method names, header names, option tags). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenCharAt(s, i)) return false;
  return true;
}

/** `Call-ID`, `i`, `CALL-ID` -> `call-id`: lower-case long form (RFC 3261 7.3.1, 7.3.3). */
export function canonicalHeaderName(name: string): string {
  // The usual spellings first: string compares are cheaper than hashing a fresh string.
  switch (name) {
    case 'Via':
      return 'via';
    case 'From':
      return 'from';
    case 'To':
      return 'to';
    case 'Call-ID':
      return 'call-id';
    case 'CSeq':
      return 'cseq';
    case 'Max-Forwards':
      return 'max-forwards';
    case 'Content-Type':
      return 'content-type';
    case 'Content-Length':
      return 'content-length';
    case 'Contact':
      return 'contact';
  }
  const known = canonicalCache.get(name);
  if (known !== undefined) return known;
  const lower = name.trim().toLowerCase();
  const canonical = compactHeaderNames[lower] ?? lower;
  // Every header of every message goes through here: remember the spellings seen, up to a
  // bound (names come from the network, so the cache must not grow without limit).
  if (canonicalCache.size < CANONICAL_CACHE_MAX) canonicalCache.set(name, canonical);
  return canonical;
}

const canonicalCache = new Map<string, string>();
const CANONICAL_CACHE_MAX = 1000;

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 7.3.1): the parser stores one entry
 * per element. Headers whose values may contain a bare comma (WWW-Authenticate, Authorization,
 * Date, Subject, unknown extension headers...) are deliberately absent.
 */
export const listHeaders: ReadonlySet<string> = new Set([
  'via', 'route', 'record-route', 'contact', 'allow', 'supported', 'require', 'proxy-require',
  'unsupported', 'accept', 'accept-encoding', 'accept-language', 'allow-events', 'content-encoding',
  'content-language', 'in-reply-to', 'path', 'service-route', 'call-info', 'alert-info', 'error-info',
  'warning', 'p-asserted-identity', 'p-preferred-identity', 'history-info', 'accept-contact',
  'reject-contact', 'request-disposition', 'security-client', 'security-server', 'security-verify',
  'reason', 'diversion', 'p-associated-uri', 'permission-missing', 'trigger-consent',
]);

/** First value of a header, `name` in any case or compact form; undefined when absent. */
export function getHeader(msg: { readonly headers: readonly SipHeader[] }, name: string): string | undefined {
  const n = canonicalHeaderName(name);
  for (const h of msg.headers) if (h.name === n) return h.value;
  return undefined;
}

/** Every value of a header, in order (`getHeaders(req, 'v')` is the Via list). */
export function getHeaders(msg: { readonly headers: readonly SipHeader[] }, name: string): string[] {
  const n = canonicalHeaderName(name);
  const out: string[] = [];
  for (const h of msg.headers) if (h.name === n) out.push(h.value);
  return out;
}

/**
 * A copy of `headers` where `name` has exactly one entry, `value`: it takes the place of the
 * first existing entry (other entries of that name are removed) or is appended.
 */
export function withHeader(headers: readonly SipHeader[], name: string, value: string): SipHeader[] {
  const n = canonicalHeaderName(name);
  const out: SipHeader[] = [];
  let placed = false;
  for (const h of headers) {
    if (h.name !== n) out.push(h);
    else if (!placed) {
      out.push({ name: n, value });
      placed = true;
    }
  }
  if (!placed) out.push({ name: n, value });
  return out;
}

/** A copy of `headers` with `{ name, value }` appended (e.g. one more Via or Contact). */
export function addHeader(headers: readonly SipHeader[], name: string, value: string): SipHeader[] {
  return [...headers, { name: canonicalHeaderName(name), value }];
}

/** A copy of `headers` without any entry of `name`. */
export function withoutHeader(headers: readonly SipHeader[], name: string): SipHeader[] {
  const n = canonicalHeaderName(name);
  return headers.filter((h) => h.name !== n);
}

/** The Content-Length header as a number; undefined when absent or not a plain decimal. */
export function contentLength(msg: { readonly headers: readonly SipHeader[] }): number | undefined {
  const v = getHeader(msg, 'content-length');
  if (v === undefined || !/^\d{1,15}$/.test(v)) return undefined;
  return Number(v);
}

/**
 * A delta-seconds value (Expires, Retry-After, `;expires=`): a decimal within 32 bits, else
 * undefined, so that the caller applies its default as RFC 4475 3.1.2.4 suggests for overlarge
 * values.
 */
export function parseDeltaSeconds(value: string): number | undefined {
  const v = value.trim();
  if (!/^\d{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 0xffffffff ? n : undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A SIP Date value (RFC 3261 20.17: RFC 1123 form, always GMT). Undefined for anything else,
 * e.g. the `EST` zone of RFC 4475 3.1.2.12, which an element may simply ignore.
 */
export function parseSipDate(value: string): Date | undefined {
  const m = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(value.trim());
  if (m === null) return undefined;
  const month = MONTHS.indexOf(m[3]);
  if (month < 0) return undefined;
  const d = new Date(Date.UTC(Number(m[4]), month, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])));
  return Number.isNaN(d.getTime()) || d.getUTCDate() !== Number(m[2]) ? undefined : d;
}

/**
 * Split a comma-list header value into its elements, ignoring commas inside quoted strings and
 * inside `<...>` (a display name "Doe, John" or a URI parameter). Empty elements are dropped, as
 * the `#rule` of RFC 2616 2.1 (used by RFC 3261) allows null elements.
 */
export function splitHeaderList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let inQuote = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"') inQuote = true;
    else if (ch === '<') angle = true;
    else if (ch === '>') angle = false;
    else if (ch === ',' && !angle) {
      const part = trimWs(value.slice(start, i));
      if (part.length > 0) out.push(part);
      start = i + 1;
    }
  }
  const last = trimWs(value.slice(start));
  if (last.length > 0) out.push(last);
  return out;
}

/** @internal Define an own enumerable property (safe for names such as `__proto__`). */
export function setParam(obj: Record<string, string | null>, name: string, value: string | null): void {
  if (Object.hasOwn(obj, name)) return; // first occurrence wins
  // Plain assignment keeps the object in V8's fast mode (defineProperty on every parameter cost
  // about 5% of a MESSAGE transaction); only `__proto__` would hit the prototype setter.
  if (name === '__proto__') Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  else obj[name] = value;
}

/** @internal Strip leading and trailing SP / HTAB only. */
export function trimWs(s: string): string {
  // A loop, not /[ \t]+$/: that regex backtracks quadratically on long runs of spaces.
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** @internal Index just past the LWS (SP / HTAB) at `i`. */
export function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** @internal End index (exclusive) of the quoted string that starts at `i`, or -1 if unterminated. */
export function scanQuoted(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const ch = s[j];
    if (ch === '\\') {
      if (j + 1 >= s.length || s[j + 1] === '\r' || s[j + 1] === '\n') return -1;
      j++;
    } else if (ch === '"') return j + 1;
    else if (ch === '\r' || ch === '\n') return -1;
  }
  return -1;
}

/** Characters that end an unquoted parameter value, by char code. */
const VALUE_STOP: Uint8Array = (() => {
  const t = new Uint8Array(128);
  for (const ch of ';, \t"<>=\r\n') t[ch.charCodeAt(0)] = 1;
  return t;
})();

function isValueStop(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c < 128 && VALUE_STOP[c] === 1;
}

/**
 * @internal Scan one `LWS ";" LWS name [ LWS "=" LWS value ]` at `i`. Returns `null` when no ";"
 * follows (end of the parameters), undefined when the parameter is malformed.
 */
function scanOneParam(s: string, i: number): { name: string; value: string | null; end: number } | null | undefined {
  const j = skipWs(s, i);
  if (j >= s.length || s[j] !== ';') return null;
  let k = skipWs(s, j + 1);
  const nameStart = k;
  while (k < s.length && isTokenCharAt(s, k)) k++;
  if (k === nameStart) return undefined;
  const name = s.slice(nameStart, k).toLowerCase();
  let m = skipWs(s, k);
  if (m >= s.length || s[m] !== '=') return { name, value: null, end: k };
  m = skipWs(s, m + 1);
  let end: number;
  if (s[m] === '"') {
    end = scanQuoted(s, m);
    if (end < 0) return undefined;
  } else {
    end = m;
    while (end < s.length && !isValueStop(s, end)) end++;
    if (end === m) return undefined;
  }
  return { name, value: s.slice(m, end), end };
}

/**
 * @internal Scan `*( LWS ";" LWS name [ LWS "=" LWS value ] )` from `i` (RFC 3261 `generic-param`).
 * Names are lower-cased; a quoted value keeps its quotes so it is written back unchanged.
 * Returns undefined on an empty name or value (`;;`, `;a=`), else the params and where they end.
 */
export function scanParams(s: string, i: number): { params: Record<string, string | null>; end: number } | undefined {
  const params: Record<string, string | null> = {};
  for (;;) {
    const p = scanOneParam(s, i);
    if (p === null) return { params, end: i };
    if (p === undefined) return undefined;
    setParam(params, p.name, p.value);
    i = p.end;
  }
}

/**
 * Generic header parameters, `;expires=60;q=0.5;lr` -> `{ expires: '60', q: '0.5', lr: null }`.
 * The leading `;` is optional (`a=1;b` reads both). Names lower-case, quoted values keep their
 * quotes; parsing stops at the first malformed parameter, so the result holds what parsed.
 */
export function parseHeaderParams(text: string): Record<string, string | null> {
  let s = text.trim();
  if (s.length > 0 && s[0] !== ';') s = ';' + s;
  const out: Record<string, string | null> = {};
  let i = 0;
  for (;;) {
    const p = scanOneParam(s, i);
    if (p === null || p === undefined) return out;
    setParam(out, p.name, p.value);
    i = p.end;
  }
}

/** @internal One header field as read from the wire, before list splitting. */
export interface RawField {
  readonly name: string;
  readonly value: string;
}

/** @internal Result of reading a header block. */
export type FieldsResult =
  | { ok: true; fields: RawField[] }
  | { ok: false; status: number; code: string; reason: string; fields: RawField[] };

/**
 * @internal Read header lines (without the start line or the blank line): unfold continuation
 * lines (RFC 3261 7.3.1: a line starting with SP/HT continues the previous one, the fold becomes
 * one SP), check name syntax and the count and line-size limits, expand compact names.
 */
export function readHeaderFields(lines: readonly string[], maxHeaders: number, maxLineBytes: number, from = 0): FieldsResult {
  const fields: RawField[] = [];
  let cur: string | undefined;
  for (let n = from; n < lines.length; n++) {
    const line = lines[n];
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === 0x09) {
      if (cur === undefined) return { ok: false, status: 400, code: 'SIP_BAD_HEADER', reason: 'Bad Request - continuation line without a header', fields };
      cur = trimWs(cur) + ' ' + trimWs(line);
      if (cur.length > maxLineBytes) {
        return { ok: false, status: 513, code: 'SIP_HEADER_TOO_LONG', reason: `Message Too Large - header line over ${maxLineBytes} bytes`, fields };
      }
      continue;
    }
    if (cur !== undefined) {
      const err = pushField(fields, cur, maxHeaders, maxLineBytes);
      if (err !== undefined) return err;
    }
    cur = line;
  }
  if (cur !== undefined) {
    const err = pushField(fields, cur, maxHeaders, maxLineBytes);
    if (err !== undefined) return err;
  }
  return { ok: true, fields };
}

/** One unfolded header line: checked against the limits and the name syntax, then kept. */
function pushField(fields: RawField[], line: string, maxHeaders: number, maxLineBytes: number): FieldsResult | undefined {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: count bytes only when that could matter.
  if (line.length > maxLineBytes || (line.length * 3 > maxLineBytes && Buffer.byteLength(line) > maxLineBytes)) {
    return { ok: false, status: 513, code: 'SIP_HEADER_TOO_LONG', reason: `Message Too Large - header line over ${maxLineBytes} bytes`, fields };
  }
  const colon = line.indexOf(':');
  if (colon < 0) return { ok: false, status: 400, code: 'SIP_BAD_HEADER', reason: 'Bad Request - header line without colon', fields };
  // HCOLON = *( SP / HTAB ) ":" SWS: white space may precede the colon ("Via  : ...").
  const rawName = trimWs(line.slice(0, colon));
  if (!isToken(rawName)) return { ok: false, status: 400, code: 'SIP_BAD_HEADER', reason: 'Bad Request - malformed header name', fields };
  if (fields.length >= maxHeaders) {
    return { ok: false, status: 513, code: 'SIP_TOO_MANY_HEADERS', reason: `Message Too Large - more than ${maxHeaders} header lines`, fields };
  }
  // Trim only SP/HT: String#trim would also eat U+FEFF and other Unicode spaces of the value.
  fields.push({ name: canonicalHeaderName(rawName), value: trimWs(line.slice(colon + 1)) });
  return undefined;
}

/** @internal A field as header entries: list headers split per element, others kept whole. */
export function fieldToHeaders(f: RawField, out: SipHeader[]): void {
  // Without a comma the split would yield the (already trimmed) value itself.
  if (listHeaders.has(f.name) && f.value.indexOf(',') >= 0) {
    const parts = splitHeaderList(f.value);
    if (parts.length === 0) out.push({ name: f.name, value: '' });
    else for (const p of parts) out.push({ name: f.name, value: p });
  } else out.push(f); // the same immutable { name, value }: no copy per header per message
}
