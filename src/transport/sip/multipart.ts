/**
 * multipart/* bodies (RFC 2046 5.1): RFC 5366 list INVITEs carry `multipart/mixed` with
 * `application/sdp` and `application/resource-lists+xml` (Content-Disposition: recipient-list);
 * RFC 4475 3.1.1.11 carries binary parts. Bodies are handled as bytes throughout.
 */
import { randomBytes } from 'node:crypto';
import { ProtocolError } from '../../errors.js';
import type { SipHeader } from './message.js';
import { canonicalHeaderName, fieldToHeaders, parseHeaderParams, readHeaderFields } from './headers.js';
import { wireHeaderName } from './compact.js';

/** One body part: its headers (canonical names) and bytes. */
export interface MultipartPart {
  readonly headers: SipHeader[];
  readonly body: Buffer;
}

/** Limits of `parseMultipart`; a part's header block is bounded like a message's. */
export interface MultipartLimits {
  /** Default 32. */
  readonly maxParts: number;
}

const DEFAULT_LIMITS: MultipartLimits = { maxParts: 32 };
const PART_MAX_HEADERS = 32;
const PART_MAX_LINE = 8192;

/** RFC 2046 bchars; 1 to 70 characters, not ending in a space. */
const BOUNDARY_RE = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

function bad(reason: string): ProtocolError {
  return new ProtocolError('SIP_BAD_MULTIPART', 400, `Bad Request - ${reason}`);
}

/** The boundary of a `multipart/*` Content-Type value (quoted or not); undefined otherwise. */
export function multipartBoundary(contentType: string): string | undefined {
  const semi = contentType.indexOf(';');
  const type = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (!/^multipart\/[!-~]+$/.test(type) || semi < 0) return undefined;
  const raw = parseHeaderParams(contentType.slice(semi))['boundary'];
  if (raw === undefined || raw === null) return undefined;
  const b = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  return BOUNDARY_RE.test(b) ? b : undefined;
}

/**
 * Split a multipart body into parts. The preamble before the first delimiter and the epilogue
 * after the close delimiter are ignored; transport padding after a delimiter is allowed; a bare
 * LF is accepted where CRLF is expected. Returns a ProtocolError (400) on a missing boundary,
 * a missing close delimiter or a malformed part header, 413 over `maxParts`. Never throws.
 */
export function parseMultipart(contentType: string, body: Buffer, limits: MultipartLimits = DEFAULT_LIMITS): { parts: MultipartPart[] } | ProtocolError {
  try {
    const boundary = typeof contentType === 'string' ? multipartBoundary(contentType) : undefined;
    if (boundary === undefined) return bad('multipart Content-Type without a valid boundary');
    if (!Buffer.isBuffer(body)) return bad('multipart body is not bytes');
    const delim = Buffer.from('--' + boundary, 'latin1');
    // The first delimiter is at the very start or right after a line break (the preamble ends
    // with CRLF that belongs to the delimiter).
    let pos = findDelimiter(body, delim, 0, true);
    if (pos < 0) return bad('multipart body without its boundary');
    const parts: MultipartPart[] = [];
    for (;;) {
      let after = pos + delim.length;
      if (body[after] === 0x2d && body[after + 1] === 0x2d) return { parts }; // close delimiter: epilogue ignored
      // transport-padding, then CRLF
      while (body[after] === 0x20 || body[after] === 0x09) after++;
      if (body[after] === 0x0d && body[after + 1] === 0x0a) after += 2;
      else if (body[after] === 0x0a) after += 1;
      else return bad('malformed multipart delimiter line');
      const next = findDelimiter(body, delim, after, false);
      if (next < 0) return bad('multipart body without close delimiter');
      // The CRLF before the next delimiter belongs to it (RFC 2046 5.1.1).
      let end = next;
      if (end > after && body[end - 1] === 0x0a) end--;
      if (end > after && body[end - 1] === 0x0d) end--;
      if (parts.length >= limits.maxParts) return new ProtocolError('SIP_TOO_MANY_PARTS', 413, 'Request Entity Too Large - too many body parts');
      const part = parsePart(body.subarray(after, Math.max(after, end)));
      if (part instanceof ProtocolError) return part;
      parts.push(part);
      pos = next;
    }
  } catch (e) {
    return new ProtocolError('SIP_MULTIPART_BUG', 500, `multipart failure: ${(e as Error).message}`);
  }
}

/** Index of `delim` at a line start (after LF, or at `from` when `atStartOk`), or -1. */
function findDelimiter(body: Buffer, delim: Buffer, from: number, atStartOk: boolean): number {
  let i = body.indexOf(delim, from);
  while (i >= 0) {
    if ((atStartOk && i === 0) || (i > 0 && body[i - 1] === 0x0a)) return i;
    i = body.indexOf(delim, i + 1);
  }
  return -1;
}

function parsePart(raw: Buffer): MultipartPart | ProtocolError {
  // A part with no headers starts with its blank line.
  let headEnd: number;
  let bodyStart: number;
  if (raw[0] === 0x0a) {
    headEnd = 0;
    bodyStart = 1;
  } else if (raw[0] === 0x0d && raw[1] === 0x0a) {
    headEnd = 0;
    bodyStart = 2;
  } else {
    const crlf = raw.indexOf('\r\n\r\n');
    const lf = raw.indexOf('\n\n');
    if (crlf < 0 && lf < 0) {
      // Headers only, no body.
      headEnd = raw.length;
      bodyStart = raw.length;
    } else if (crlf >= 0 && (lf < 0 || crlf + 1 <= lf)) {
      headEnd = crlf;
      bodyStart = crlf + 4;
    } else {
      headEnd = lf;
      bodyStart = lf + 2;
    }
  }
  const lines = raw.toString('utf8', 0, headEnd).split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l, i, a) => !(l === '' && i === a.length - 1));
  const r = readHeaderFields(lines, PART_MAX_HEADERS, PART_MAX_LINE);
  if (!r.ok) return bad(`body part: ${r.reason.replace(/^.* - /, '')}`);
  const headers: SipHeader[] = [];
  for (const f of r.fields) fieldToHeaders(f, headers);
  return { headers, body: Buffer.from(raw.subarray(bodyStart)) };
}

/** One part to build. `contentType` is written first, then `headers` (e.g. Content-Disposition). */
export interface MultipartInput {
  readonly contentType: string;
  readonly headers?: readonly SipHeader[];
  readonly body: Buffer;
}

/**
 * Build a multipart body and its Content-Type (`multipart/<subtype>;boundary=...`). Without a
 * boundary a random one is drawn that occurs in no part. A given boundary that is invalid or
 * occurs in a part is a programming error: RangeError.
 */
export function buildMultipart(parts: readonly MultipartInput[], boundary?: string, subtype = 'mixed'): { contentType: string; body: Buffer } {
  const occurs = (b: string): boolean => parts.some((p) => p.body.includes('--' + b) || p.contentType.includes(b));
  let b = boundary;
  if (b === undefined) {
    do b = 'parley-' + randomBytes(12).toString('hex');
    while (occurs(b));
  } else if (!BOUNDARY_RE.test(b) || occurs(b)) throw new RangeError(`unusable multipart boundary: ${b}`);
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${b}\r\nContent-Type: ${p.contentType}\r\n`;
    for (const h of p.headers ?? []) head += `${wireHeaderName(canonicalHeaderName(h.name))}: ${h.value.replace(/[\r\n]+/g, ' ')}\r\n`;
    chunks.push(Buffer.from(head + '\r\n', 'utf8'), p.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${b}--\r\n`));
  const quoted = /^[0-9A-Za-z'+_.\-]+$/.test(b) ? b : `"${b}"`;
  return { contentType: `multipart/${subtype};boundary=${quoted}`, body: Buffer.concat(chunks) };
}
