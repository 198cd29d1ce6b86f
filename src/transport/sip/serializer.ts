/**
 * Writes SIP messages (the exact inverse of `parseMessage` for messages built by the
 * application) and builds responses to requests (RFC 3261 8.2.6).
 */
import type { SipHeader, SipMessage, SipRequest, SipResponse } from './message.js';
import { wireHeaderName } from './compact.js';
import { parseCSeq, parseNameAddr } from './nameAddr.js';
import { reasonPhrase } from '../../formats/sipReasons.js';

/** CR, LF and NUL can never be part of a header line: they would inject headers (or cut them). */
function oneLine(s: string): string {
  return /[\r\n\0]/.test(s) ? s.replace(/[\r\n\0]+/g, ' ') : s;
}

const prefixes = new Map<string, string>();

/** `via` -> `Via: `: the start of a header line, remembered for the names seen (bounded). */
function linePrefix(name: string): string {
  let p = prefixes.get(name);
  if (p === undefined) {
    p = `${wireHeaderName(oneLine(name).replace(/:/g, ''))}: `;
    if (prefixes.size < 1000) prefixes.set(name, p);
  }
  return p;
}

/**
 * Serialize a message: start line, one header line per entry in order, then a Content-Length
 * that always equals the body's byte length (it replaces the first Content-Length entry, or is
 * appended), CRLF line ends, the body. CR/LF inside values become spaces.
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const body = msg.body ?? Buffer.alloc(0);
  let head =
    msg.kind === 'request'
      ? `${oneLine(msg.method)} ${oneLine(msg.uri)} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${oneLine(msg.reason)}\r\n`;
  let wroteLength = false;
  for (const h of msg.headers) {
    if (h.name === 'content-length') {
      if (wroteLength) continue;
      wroteLength = true;
      head += `Content-Length: ${body.length}\r\n`;
      continue;
    }
    head += linePrefix(h.name) + oneLine(h.value) + '\r\n';
  }
  if (!wroteLength) head += `Content-Length: ${body.length}\r\n`;
  head += '\r\n';
  const headBuf = Buffer.from(head, 'utf8');
  return body.length === 0 ? headBuf : Buffer.concat([headBuf, body]);
}

/** Options of `buildResponse`. */
export interface BuildResponseOptions {
  /** Extra headers appended after the copied ones (Contact, Allow, WWW-Authenticate...). */
  readonly headers?: readonly SipHeader[];
  readonly body?: Buffer;
  /** Added to To when it has no tag yet (RFC 3261 8.2.6.2). */
  readonly toTag?: string;
  /**
   * @internal What the caller already parsed from `req` (the stack, from the parser): the CSeq
   * method and whether To has a tag, so that they are not parsed again.
   */
  readonly known?: { readonly cseqMethod: string; readonly toHasTag: boolean };
}

const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

/**
 * Build a response to `req` (RFC 3261 8.2.6.2): copies every Via in order, From, To (with
 * `toTag` added if To has none), Call-ID and CSeq; Record-Route too for 101-299 responses to
 * dialog-creating requests (INVITE, SUBSCRIBE, REFER; RFC 3261 12.1.1, RFC 6665 4.1.3); the
 * Timestamp of the request in a 100 (8.2.6.1). `opts.headers` follow. The reason defaults to the
 * usual phrase. Content-Length is written by the serializer.
 */
export function buildResponse(req: SipRequest, status: number, reason?: string, opts: BuildResponseOptions = {}): SipResponse {
  const headers: SipHeader[] = [];
  const from = req.headers;
  copyHeaders(from, 'via', headers);
  copyHeaders(from, 'from', headers);
  for (const h of from) {
    if (h.name !== 'to') continue;
    const addTag = opts.toTag !== undefined && !(opts.known !== undefined ? opts.known.toHasTag : hasTag(h.value));
    headers.push({ name: 'to', value: addTag ? `${h.value};tag=${opts.toTag}` : h.value });
    break;
  }
  copyHeaders(from, 'call-id', headers);
  copyHeaders(from, 'cseq', headers);
  const method = opts.known !== undefined ? opts.known.cseqMethod : (parseCSeq(from.find((h) => h.name === 'cseq')?.value ?? '')?.method ?? req.method);
  if (status > 100 && status < 300 && DIALOG_CREATING.has(method)) copyHeaders(from, 'record-route', headers);
  if (status === 100) copyHeaders(from, 'timestamp', headers);
  if (opts.headers) for (const h of opts.headers) headers.push(h);
  return { kind: 'response', status, reason: reason ?? reasonPhrase(status), headers, body: opts.body ?? EMPTY };
}

const EMPTY = Buffer.alloc(0);

function copyHeaders(from: readonly SipHeader[], name: string, to: SipHeader[]): void {
  for (let i = 0; i < from.length; i++) if (from[i].name === name) to.push(from[i]);
}

function hasTag(to: string): boolean {
  const na = parseNameAddr(to);
  if (na !== undefined) return Object.hasOwn(na.params, 'tag');
  // Unparsable To (a 400 being built for a broken request): look for the parameter textually,
  // outside the <> so a URI parameter is not mistaken for it.
  const gt = to.lastIndexOf('>');
  return /;\s*tag\s*=/i.test(gt >= 0 ? to.slice(gt) : to);
}
