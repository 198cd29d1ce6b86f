/**
 * `message/sipfrag` (RFC 3420): a fragment of a SIP message. Parley writes them as the bodies
 * of REFER progress NOTIFYs (RFC 3515 2.4.5): the status line of the response to the
 * referred request, `SIP/2.0 100 Trying` first, then the final one with the subscription
 * terminated. The parser reads what a peer sends back (a REFER Parley sent, e.g. the dial-out
 * of RFC 5366). Self-contained (no transport import) so machines may use it.
 */
import { ProtocolError } from '../errors.js';
import { reasonPhrase } from './sipReasons.js';

/** RFC 3420 content type. */
export const SIPFRAG_CONTENT_TYPE = 'message/sipfrag';

/** One header line of a fragment, name as written. */
export interface SipfragHeader {
  readonly name: string;
  readonly value: string;
}

/**
 * A parsed fragment (RFC 3420 section 2: `[ start-line ] *message-header [ CRLF [ message-body ] ]`).
 * `status`/`reason` when the start line is a Status-Line, `method`/`uri` for a Request-Line.
 */
export interface Sipfrag {
  readonly status?: number;
  readonly reason?: string;
  readonly method?: string;
  readonly uri?: string;
  readonly headers: readonly SipfragHeader[];
  readonly body: string;
}

/** Parser limits. */
export interface SipfragLimits {
  /** Largest fragment. Default 8 KiB: a progress report is one line. */
  readonly maxBytes: number;
  /** Most header lines. Default 32. */
  readonly maxHeaders: number;
}

export const DEFAULT_SIPFRAG_LIMITS: SipfragLimits = Object.freeze({ maxBytes: 8192, maxHeaders: 32 });


/** A reason phrase without CR/LF (they would end the line and inject headers). */
function safeReason(status: number, reason: string | undefined): string {
  const r = reason ?? reasonPhrase(status);
  return r.replace(/[\r\n\0]+/g, ' ');
}

/**
 * A sipfrag body holding only a Status-Line, as RFC 3515 2.4.5 requires at minimum:
 * `SIP/2.0 200 OK\r\n`. Throws RangeError for a status outside 100..699 (a programming error).
 */
export function buildSipfrag(status: number, reason?: string): string {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new RangeError(`sipfrag: bad status ${status}`);
  return `SIP/2.0 ${status} ${safeReason(status, reason)}\r\n`;
}

/**
 * True when a REFER progress report with this status is the last one (RFC 3515 2.4.5): a final
 * response ends the implicit subscription (`Subscription-State: terminated;reason=noresource`).
 */
export function isFinalSipfragStatus(status: number): boolean {
  return status >= 200;
}

function bad(why: string): ProtocolError {
  return new ProtocolError('SIPFRAG_MALFORMED', 400, `sipfrag: ${why}`);
}

const HEADER_NAME = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Parses a fragment. Line ends CRLF or bare LF are accepted (robustness: some UAs write LF);
 * folded header lines are joined. A ProtocolError(400) when malformed, 413 when over the
 * limits; never throws.
 */
export function parseSipfrag(input: string | Buffer, limits: Partial<SipfragLimits> = {}): Sipfrag | ProtocolError {
  const l = { ...DEFAULT_SIPFRAG_LIMITS, ...limits };
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > l.maxBytes) return new ProtocolError('SIPFRAG_TOO_LARGE', 413, `sipfrag over ${l.maxBytes} bytes`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const out: { -readonly [K in keyof Sipfrag]: Sipfrag[K] } = { headers: [], body: '' };
  const headers: SipfragHeader[] = [];
  let pos = 0;
  const nextLine = (): string | undefined => {
    if (pos >= text.length) return undefined;
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, end > pos && text[end - 1] === '\r' ? end - 1 : end);
    pos = nl < 0 ? text.length : nl + 1;
    return line;
  };
  let line = nextLine();
  if (line === undefined) return bad('empty');
  const statusLine = /^SIP\/2\.0 ([1-6][0-9]{2}) ([^\r\n]*)$/.exec(line);
  const requestLine = /^([A-Za-z0-9\-.!%*_+`'~]+) (\S+) SIP\/2\.0$/.exec(line);
  if (statusLine !== null) {
    out.status = Number(statusLine[1]);
    out.reason = statusLine[2];
    line = nextLine();
  } else if (requestLine !== null) {
    out.method = requestLine[1];
    out.uri = requestLine[2];
    line = nextLine();
  } else if (line.startsWith('SIP/')) {
    return bad('malformed status line');
  }
  for (; line !== undefined && line !== ''; line = nextLine()) {
    if (line[0] === ' ' || line[0] === '\t') {
      const last = headers.pop();
      if (last === undefined) return bad('continuation line without a header');
      headers.push({ name: last.name, value: `${last.value} ${line.trim()}` });
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim();
    if (!HEADER_NAME.test(name)) return bad('malformed header line');
    if (headers.length >= l.maxHeaders) return new ProtocolError('SIPFRAG_TOO_MANY_HEADERS', 413, `sipfrag: more than ${l.maxHeaders} headers`);
    headers.push({ name, value: line.slice(colon + 1).trim() });
  }
  out.headers = headers;
  out.body = line === '' ? text.slice(pos) : '';
  if (out.status === undefined && out.method === undefined && headers.length === 0 && out.body === '') return bad('no content');
  return out;
}
