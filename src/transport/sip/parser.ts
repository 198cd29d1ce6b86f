/**
 * Parse one complete SIP message (a UDP datagram, or one message cut out of a stream by
 * `SipStreamFramer`) and validate what a UAS must check before it can even answer
 * (RFC 3261 8.2, 16.3, 18.3): start line, header syntax, mandatory headers, CSeq, Content-Length.
 * Application-level checks (unknown URI scheme -> 416, Require -> 420, Max-Forwards 0 -> 483...)
 * are left to the layers above, which get the parsed values.
 */
import { ProtocolError } from '../../errors.js';
import type { NameAddr, ParsedHeaders, SipHeader, SipRequest, SipResponse, Via } from './message.js';
import { defaultSipLimits, type SipLimits } from './limits.js';
import { fieldToHeaders, isToken, readHeaderFields, type RawField } from './headers.js';
import { parseNameAddr, parseCSeq, parseVia } from './nameAddr.js';
import { parseUri, uriScheme } from './uri.js';

/** What a broken message still told us, so that a 400 can carry its Via/From/To/Call-ID/CSeq. */
export interface PartialMessage {
  readonly kind: 'request' | 'response';
  readonly method?: string;
  readonly uri?: string;
  readonly headers: SipHeader[];
}

/** Outcome of `parseMessage`; never an exception. */
export type ParseResult =
  | { ok: true; message: SipRequest | SipResponse }
  | { ok: false; error: ProtocolError; partial?: PartialMessage };

/**
 * @internal What validation already parsed from a message (top Via, From, To, CSeq, Call-ID),
 * so that the transaction layer reuses it instead of parsing the same headers again.
 */
export interface MessageInfo extends ParsedHeaders {
  readonly topVia: Via;
  /** The raw top Via value (for RFC 2543 matching). */
  readonly topViaValue: string;
}

/** @internal `parseMessage` plus what it parsed on the way (see `MessageInfo`). */
export type DetailedParseResult =
  | { ok: true; message: SipRequest | SipResponse; info: MessageInfo }
  | { ok: false; error: ProtocolError; partial?: PartialMessage };

/** A parsed request line. */
export interface RequestLine {
  readonly method: string;
  readonly uri: string;
}

/** A parsed status line. */
export interface StatusLine {
  readonly status: number;
  readonly reason: string;
}

/**
 * Parse `Method SP Request-URI SP SIP/2.0` (RFC 3261 7.1): exactly one SP between elements
 * (RFC 4475 3.1.2.9, 3.1.2.10), no `<>` around the URI (3.1.2.7), no LWS inside it (3.1.2.8).
 * Returns a ProtocolError with 400, or 505 for another SIP version (3.1.2.16).
 */
export function parseRequestLine(line: string): RequestLine | ProtocolError {
  // Exactly three non-empty parts separated by single spaces (what split(' ') checked, without the array).
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || sp2 === sp1 + 1 || sp2 === line.length - 1 || line.indexOf(' ', sp2 + 1) >= 0) {
    return new ProtocolError('SIP_BAD_START_LINE', 400, 'Bad Request - malformed Request-Line');
  }
  const method = line.slice(0, sp1);
  const uri = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method)) return new ProtocolError('SIP_BAD_START_LINE', 400, 'Bad Request - malformed method');
  const v = /^SIP\/(\d+)\.(\d+)$/i.exec(version);
  if (v === null) return new ProtocolError('SIP_BAD_START_LINE', 400, 'Bad Request - malformed SIP-Version');
  if (Number(v[1]) !== 2 || Number(v[2]) !== 0) {
    return new ProtocolError('SIP_BAD_VERSION', 505, 'Version Not Supported');
  }
  const scheme = uriScheme(uri);
  if (scheme === undefined || /[\x00-\x20\x7f<>"]/.test(uri)) {
    return new ProtocolError('SIP_BAD_REQUEST_URI', 400, 'Bad Request - malformed Request-URI');
  }
  // A scheme we do not know is not a syntax error: the application answers 416 (RFC 4475 3.3.2).
  if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') {
    const u = parseUri(uri);
    if (u === undefined) return new ProtocolError('SIP_BAD_REQUEST_URI', 400, 'Bad Request - malformed Request-URI');
    // RFC 3261 19.1.1 table: headers are not allowed in a Request-URI (RFC 4475 3.1.2.11).
    if (Object.keys(u.headers).length > 0) {
      return new ProtocolError('SIP_BAD_REQUEST_URI', 400, 'Bad Request - headers not allowed in Request-URI');
    }
  }
  return { method, uri };
}

/** Parse `SIP/2.0 SP 3DIGIT SP Reason-Phrase` (the reason may be empty, RFC 4475 3.1.1.13). */
export function parseStatusLine(line: string): StatusLine | ProtocolError {
  const m = /^SIP\/(\d+)\.(\d+) (\d+)(?: (.*))?$/i.exec(line);
  if (m === null) return new ProtocolError('SIP_BAD_START_LINE', 0, 'malformed Status-Line');
  if (Number(m[1]) !== 2 || Number(m[2]) !== 0) return new ProtocolError('SIP_BAD_VERSION', 0, 'unsupported SIP version in response');
  // Status-Code is exactly 3 digits, 100-699 (RFC 4475 3.1.2.19 sends 4294967301).
  if (m[3].length !== 3 || Number(m[3]) < 100 || Number(m[3]) > 699) {
    return new ProtocolError('SIP_BAD_STATUS', 0, 'status code out of range');
  }
  return { status: Number(m[3]), reason: m[4] ?? '' };
}

/** Index of the first byte of the blank line ending the header section, and where the body starts. */
function findHeaderEnd(data: Buffer, from: number): { end: number; body: number } | undefined {
  let i = data.indexOf(0x0a, from);
  while (i >= 0) {
    // A line feed followed by an empty line (CRLF, or a bare LF when the sender is sloppy).
    if (data[i + 1] === 0x0a) return { end: i + 1, body: i + 2 };
    if (data[i + 1] === 0x0d && data[i + 2] === 0x0a) return { end: i + 1, body: i + 3 };
    i = data.indexOf(0x0a, i + 1);
  }
  return undefined;
}

type Fail = { ok: false; error: ProtocolError; partial?: PartialMessage };

/**
 * Parse a complete SIP message. For a datagram, a body longer than Content-Length is cut to it
 * (RFC 3261 18.3; RFC 4475 3.1.1.8 trailing octets) and a shorter one is a 400 (3.1.2.2); a
 * missing Content-Length means "the rest of the datagram" (RFC 2543 senders, RFC 4475 3.4.1).
 * Errors in responses have status 0: a response is never answered, only dropped.
 */
export function parseMessage(data: Buffer, limits: SipLimits = defaultSipLimits): ParseResult {
  const r = parseMessageDetailed(data, limits);
  return r.ok ? { ok: true, message: r.message } : r;
}

/** @internal `parseMessage` that also returns the headers it parsed to validate the message. */
export function parseMessageDetailed(data: Buffer, limits: SipLimits = defaultSipLimits): DetailedParseResult {
  try {
    return parse(data, limits);
  } catch (e) {
    // Defensive: a bug here must not take the transport down (STYLE.md rule 7).
    return { ok: false, error: new ProtocolError('SIP_PARSER_BUG', 0, `parser failure: ${(e as Error).message}`) };
  }
}

/** Lines of the header section (`\n` or `\r\n` ends), without a final empty line. */
function splitLines(head: string): string[] {
  const lines: string[] = [];
  let i = 0;
  for (;;) {
    const nl = head.indexOf('\n', i);
    const end = nl < 0 ? head.length : nl;
    lines.push(head.slice(i, end > i && head.charCodeAt(end - 1) === 0x0d ? end - 1 : end));
    if (nl < 0) break;
    i = nl + 1;
  }
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function parse(data: Buffer, limits: SipLimits): DetailedParseResult {
  if (!Buffer.isBuffer(data)) return { ok: false, error: new ProtocolError('SIP_GARBAGE', 0, 'not a buffer') };
  // RFC 3261 7.5: CRLFs before the start line are ignored.
  let start = 0;
  while (start < data.length && (data[start] === 0x0d || data[start] === 0x0a)) start++;
  if (start === data.length) return { ok: false, error: new ProtocolError('SIP_EMPTY', 0, 'empty message') };
  if (data.length - start > limits.maxMessageBytes + limits.maxBodyBytes) {
    return { ok: false, error: new ProtocolError('SIP_MESSAGE_TOO_LARGE', 513, 'Message Too Large') };
  }
  let he = findHeaderEnd(data, start);
  if (he !== undefined && he.end - start > limits.maxMessageBytes) he = undefined;
  let headEnd: number;
  let bodyStart: number;
  if (he === undefined) {
    if (data.length - start > limits.maxMessageBytes) {
      return { ok: false, error: new ProtocolError('SIP_MESSAGE_TOO_LARGE', 513, 'Message Too Large - header section') };
    }
    // A datagram whose last header line ends without the blank line: accept it as having no body.
    if (data[data.length - 1] !== 0x0a) {
      return { ok: false, error: new ProtocolError('SIP_TRUNCATED', 0, 'truncated message: no end of header section') };
    }
    headEnd = data.length;
    bodyStart = data.length;
  } else {
    headEnd = he.end;
    bodyStart = he.body;
  }
  const head = data.toString('utf8', start, headEnd);
  const lines = splitLines(head);
  const first = lines[0] ?? '';
  if (first.length > limits.maxHeaderLineBytes) {
    return { ok: false, error: new ProtocolError('SIP_HEADER_TOO_LONG', 513, 'Message Too Large - start line') };
  }
  const isResponse = /^SIP\//i.test(first);
  if (isResponse) return parseResponse(first, lines, data, bodyStart, limits);
  return parseRequest(first, lines, data, bodyStart, limits);
}

function readFields(lines: string[], limits: SipLimits, kind: 'request' | 'response', rl?: RequestLine):
  | { ok: true; fields: RawField[]; headers: SipHeader[] }
  | Fail {
  const r = readHeaderFields(lines, limits.maxHeaders, limits.maxHeaderLineBytes, 1);
  const headers: SipHeader[] = [];
  for (const f of r.fields) fieldToHeaders(f, headers);
  if (!r.ok) {
    const status = kind === 'request' ? r.status : 0;
    return { ok: false, error: new ProtocolError(r.code, status, r.reason), partial: { kind, method: rl?.method, uri: rl?.uri, headers } };
  }
  return { ok: true, fields: r.fields, headers };
}

/**
 * The single-value headers the parser checks, found in one pass over the fields: how many of
 * each and the first value.
 */
class FieldScan {
  fromN = 0;
  from = '';
  toN = 0;
  to = '';
  callIdN = 0;
  callId = '';
  cseqN = 0;
  cseq = '';
  contentLengthN = 0;
  contentLength = '';
  maxForwardsN = 0;
  maxForwards = '';

  constructor(fields: readonly RawField[]) {
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      switch (f.name) {
        case 'from':
          if (this.fromN++ === 0) this.from = f.value;
          break;
        case 'to':
          if (this.toN++ === 0) this.to = f.value;
          break;
        case 'call-id':
          if (this.callIdN++ === 0) this.callId = f.value;
          break;
        case 'cseq':
          if (this.cseqN++ === 0) this.cseq = f.value;
          break;
        case 'content-length':
          if (this.contentLengthN++ === 0) this.contentLength = f.value;
          break;
        case 'max-forwards':
          if (this.maxForwardsN++ === 0) this.maxForwards = f.value;
          break;
      }
    }
  }
}

function fail(partial: PartialMessage, code: string, status: number, reason: string): Fail {
  return { ok: false, error: new ProtocolError(code, status, reason), partial };
}

function parseRequest(first: string, lines: string[], data: Buffer, bodyStart: number, limits: SipLimits): DetailedParseResult {
  const rl = parseRequestLine(first);
  if (rl instanceof ProtocolError) {
    // Even with a bad start line, the headers may let the transaction layer answer the 400.
    const r = readHeaderFields(lines, limits.maxHeaders, limits.maxHeaderLineBytes, 1);
    const headers: SipHeader[] = [];
    for (const f of r.fields) fieldToHeaders(f, headers);
    const method = first.split(' ')[0];
    return { ok: false, error: rl, partial: { kind: 'request', method: isToken(method) ? method : undefined, headers } };
  }
  const rf = readFields(lines, limits, 'request', rl);
  if (!rf.ok) return rf;
  const partial: PartialMessage = { kind: 'request', method: rl.method, uri: rl.uri, headers: rf.headers };
  const scan = new FieldScan(rf.fields);
  const bodyOrErr = extractBody(scan, data, bodyStart, limits);
  if (bodyOrErr instanceof ProtocolError) return { ok: false, error: bodyOrErr, partial };
  const common = validateCommon(scan, rf.headers, 400);
  if (common instanceof ProtocolError) return { ok: false, error: common, partial };
  const cseq = parseCSeq(scan.cseq);
  if (cseq === undefined) return fail(partial, 'SIP_BAD_CSEQ', 400, 'Bad Request - malformed CSeq');
  // RFC 3261 8.2 / RFC 4475 3.1.2.17, 3.1.2.18: CSeq method must equal the request method.
  if (cseq.method !== rl.method) return fail(partial, 'SIP_CSEQ_METHOD_MISMATCH', 400, 'Bad Request - CSeq method does not match request method');
  if (scan.maxForwardsN > 1) return fail(partial, 'SIP_DUPLICATE_HEADER', 400, 'Bad Request - more than one Max-Forwards');
  // RFC 3261 20.22: 0-255. Absent is tolerated (RFC 2543 senders, RFC 4475 3.4.1).
  if (scan.maxForwardsN === 1 && (!/^\d{1,10}$/.test(scan.maxForwards) || Number(scan.maxForwards) > 255)) {
    return fail(partial, 'SIP_BAD_MAX_FORWARDS', 400, 'Bad Request - Max-Forwards out of range');
  }
  const message: SipRequest = { kind: 'request', method: rl.method, uri: rl.uri, headers: rf.headers, body: bodyOrErr };
  return { ok: true, message, info: { topVia: common.topVia, topViaValue: common.topViaValue, from: common.from, to: common.to, callId: scan.callId, cseq } };
}

function parseResponse(first: string, lines: string[], data: Buffer, bodyStart: number, limits: SipLimits): DetailedParseResult {
  const sl = parseStatusLine(first);
  if (sl instanceof ProtocolError) return { ok: false, error: sl };
  const rf = readFields(lines, limits, 'response');
  if (!rf.ok) return rf;
  const partial: PartialMessage = { kind: 'response', headers: rf.headers };
  const scan = new FieldScan(rf.fields);
  const bodyOrErr = extractBody(scan, data, bodyStart, limits);
  if (bodyOrErr instanceof ProtocolError) return { ok: false, error: new ProtocolError(bodyOrErr.code, 0, bodyOrErr.message), partial };
  const common = validateCommon(scan, rf.headers, 0);
  if (common instanceof ProtocolError) return { ok: false, error: common, partial };
  const cseq = parseCSeq(scan.cseq);
  if (cseq === undefined) {
    return { ok: false, error: new ProtocolError('SIP_BAD_CSEQ', 0, 'malformed CSeq in response'), partial };
  }
  const message: SipResponse = { kind: 'response', status: sl.status, reason: sl.reason, headers: rf.headers, body: bodyOrErr };
  return { ok: true, message, info: { topVia: common.topVia, topViaValue: common.topViaValue, from: common.from, to: common.to, callId: scan.callId, cseq } };
}

/** Content-Length against the datagram (RFC 3261 18.3, 20.14). */
function extractBody(scan: FieldScan, data: Buffer, bodyStart: number, limits: SipLimits): Buffer | ProtocolError {
  const available = data.length - bodyStart;
  if (scan.contentLengthN > 1) {
    // RFC 4475 3.3.9: there is no way to know which one frames the body.
    return new ProtocolError('SIP_DUPLICATE_HEADER', 400, 'Bad Request - multiple Content-Length values');
  }
  if (scan.contentLengthN === 0) {
    if (available > limits.maxBodyBytes) return new ProtocolError('SIP_BODY_TOO_LARGE', 413, 'Request Entity Too Large');
    return Buffer.from(data.subarray(bodyStart));
  }
  const v = scan.contentLength;
  if (!/^\d{1,15}$/.test(v)) return new ProtocolError('SIP_BAD_CONTENT_LENGTH', 400, 'Bad Request - malformed Content-Length');
  const n = Number(v);
  if (n > limits.maxBodyBytes) return new ProtocolError('SIP_BODY_TOO_LARGE', 413, 'Request Entity Too Large');
  if (n > available) return new ProtocolError('SIP_BAD_CONTENT_LENGTH', 400, 'Bad Request - Content-Length larger than message');
  return Buffer.from(data.subarray(bodyStart, bodyStart + n));
}

function bad(status: number, code: string, what: string): ProtocolError {
  return new ProtocolError(code, status, status === 0 ? what : `Bad Request - ${what}`);
}

const MANDATORY: readonly { readonly n: 'fromN' | 'toN' | 'callIdN' | 'cseqN'; readonly label: string }[] = [
  { n: 'fromN', label: 'From' },
  { n: 'toN', label: 'To' },
  { n: 'callIdN', label: 'Call-ID' },
  { n: 'cseqN', label: 'CSeq' },
];

/**
 * Checks shared by requests and responses: the five mandatory headers and address syntax.
 * Returns what it parsed on the way.
 */
function validateCommon(
  scan: FieldScan,
  headers: readonly SipHeader[],
  status: number,
): ProtocolError | { topVia: Via; topViaValue: string; from: NameAddr; to: NameAddr } {
  let topVia: Via | undefined;
  let topViaValue = '';
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (h.name !== 'via') continue;
    const v = parseVia(h.value);
    if (v === undefined) return bad(status, 'SIP_BAD_VIA', 'malformed Via');
    if (topVia === undefined) {
      topVia = v;
      topViaValue = h.value;
    }
  }
  if (topVia === undefined) return bad(status, 'SIP_MISSING_HEADER', 'missing Via');
  for (const { n, label } of MANDATORY) {
    const count = scan[n];
    if (count === 0) return bad(status, 'SIP_MISSING_HEADER', `missing ${label}`);
    // RFC 4475 3.3.8: single-value headers given twice.
    if (count > 1) return bad(status, 'SIP_DUPLICATE_HEADER', `more than one ${label}`);
  }
  const from = parseNameAddr(scan.from);
  if (from === undefined) return bad(status, 'SIP_BAD_NAME_ADDR', 'malformed From');
  const to = parseNameAddr(scan.to);
  if (to === undefined) return bad(status, 'SIP_BAD_NAME_ADDR', 'malformed To');
  const callId = scan.callId;
  if (callId.length === 0 || /[\s]/.test(callId)) return bad(status, 'SIP_BAD_CALL_ID', 'malformed Call-ID');
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    if (h.name !== 'contact' && h.name !== 'route' && h.name !== 'record-route') continue;
    if (h.name === 'contact' && h.value === '*') continue;
    if (parseNameAddr(h.value) === undefined) {
      const label = h.name === 'contact' ? 'Contact' : h.name === 'route' ? 'Route' : 'Record-Route';
      return bad(status, 'SIP_BAD_NAME_ADDR', `malformed ${label}`);
    }
  }
  return { topVia, topViaValue, from, to };
}
