/**
 * From a SIP MESSAGE to what the mailbox stores (msilo's columns): the AoR (Request-URI if it
 * is an AoR of a served domain, else the To URI), From and To without tags, content type, body,
 * the ids for duplicate suppression (Call-ID + CSeq; the CPIM/IMDN Message-ID when present) and
 * the optional reminder send time.
 */
import * as nodeCrypto from 'node:crypto';
import { ProtocolError } from '../../errors.js';
import { parseCpim, readImdn, CPIM_CONTENT_TYPE } from '../../formats/index.js';
import type { NameAddr, ParsedHeaders, SipRequest } from '../../transport/sip/message.js';
import { getHeader } from '../../transport/sip/headers.js';
import { formatNameAddr, parseCSeq, parseNameAddr } from '../../transport/sip/nameAddr.js';
import { aorOf, parseUri } from '../../transport/sip/uri.js';
import type { IncomingMessage } from '../../machines/mailboxEffects.js';
import { parseSendTime } from '../../machines/sendTime.js';

export interface MessageLimits {
  /** Largest body stored (bytes); larger gets 413. Default 64 KiB. */
  readonly maxBodyBytes: number;
  /** Latest reminder accepted, from now (ms); later gets 400. Default 366 days. */
  readonly maxSendAheadMs: number;
}

export const defaultMessageLimits: MessageLimits = Object.freeze({ maxBodyBytes: 65_536, maxSendAheadMs: 366 * 86_400_000 });

/** The header that asks for a reminder (also msilo's YYYYMMDDHHMMSS form). */
export const SEND_AT_HEADER = 'x-parley-send-at';

export interface ParsedMessage {
  readonly aor: string;
  readonly message: IncomingMessage;
  readonly dedupKeys: readonly string[];
}

const bad = (code: string, status: number, text: string) => new ProtocolError(code, status, text);

/**
 * SHA-256 as base64url: the one-shot `crypto.hash` (Node >= 20.12, no Hash object per key)
 * where it exists, else `createHash`; the same digest either way.
 */
const sha256: (value: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (value) => nodeCrypto.hash('sha256', value, 'base64url')
    : (value) => nodeCrypto.createHash('sha256').update(value).digest('base64url');

/** Short fixed-size keys: Call-IDs may be long, and LMDB keys are limited (PACKAGES.md). */
function hashKey(kind: string, value: string): string {
  return `${kind}:${sha256(value).slice(0, 22)}`;
}

/** Duplicate-suppression keys: a retransmission or re-send repeats Call-ID + CSeq; a re-sent CPIM message repeats its IMDN Message-ID. */
export function dedupKeysOf(callId: string, cseq: number, messageId?: string): string[] {
  const keys = [hashKey('c', `${callId}\u0000${cseq}`)];
  if (messageId !== undefined && messageId !== '') keys.push(hashKey('m', messageId));
  return keys;
}

/** The From or To header of `req` as a name-addr (undefined when absent or malformed). */
function nameAddrOf(req: SipRequest, name: 'from' | 'to'): NameAddr | undefined {
  const value = getHeader(req, name);
  return value ? parseNameAddr(value) : undefined;
}

/**
 * `parseUri` remembering its last answer: `accepts` and `parseMessageRequest` read the same
 * Request-URI one after the other. The parsed URI is only read, never changed.
 */
let lastUri: string | undefined;
let lastParsed: ReturnType<typeof parseUri>;
export function parseUriOnce(uri: string): ReturnType<typeof parseUri> {
  if (uri !== lastUri) {
    lastParsed = parseUri(uri);
    lastUri = uri;
  }
  return lastParsed;
}

/** The AoR of `uri` when it is a user of a served domain (also the offline application's test). */
export function servedAor(uri: string | undefined, domains: readonly string[]): string | undefined {
  const u = uri === undefined ? undefined : parseUriOnce(uri);
  return u !== undefined && u.scheme !== 'tel' && u.user !== undefined && domains.includes(u.host.toLowerCase()) ? aorOf(u) : undefined;
}

/**
 * Reads a MESSAGE for storage; throws ProtocolError (400 malformed, 413 too large, 404 not a
 * served user) with the status to answer.
 */
export function parseMessageRequest(
  req: SipRequest,
  domains: readonly string[],
  now: number,
  limits: MessageLimits = defaultMessageLimits,
  /** From, To, Call-ID and CSeq of `req` as the transport parsed them, when it did (`IncomingRequest.parsed`). */
  known?: ParsedHeaders,
): ParsedMessage {
  if (req.body.length > limits.maxBodyBytes) throw bad('MAILBOX_BODY_TOO_LARGE', 413, `Request Entity Too Large - more than ${limits.maxBodyBytes} bytes`);
  const fromNa = known !== undefined ? known.from : nameAddrOf(req, 'from');
  const toNa = known !== undefined ? known.to : nameAddrOf(req, 'to');
  if (fromNa === undefined || toNa === undefined) throw bad('MAILBOX_BAD_ADDRESS', 400, 'Bad Request - From or To');
  const from = formatNameAddr(fromNa, 'tag');
  const to = formatNameAddr(toNa, 'tag');
  // msilo: the R-URI when it is an AoR (a proxy may have rewritten it to a contact), else To.
  const aor = servedAor(req.uri, domains) ?? servedAor(toNa.uri, domains);
  if (aor === undefined) throw bad('MAILBOX_NOT_SERVED', 404, 'Not Found - no mailbox for this address');
  const callId = known !== undefined ? known.callId : (getHeader(req, 'call-id') ?? '');
  const cseq = known !== undefined ? known.cseq.seq : (parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0);
  const contentType = getHeader(req, 'content-type') ?? 'text/plain';
  let messageId: string | undefined;
  if (contentType.toLowerCase().startsWith(CPIM_CONTENT_TYPE)) {
    const cpim = parseCpim(req.body);
    if (cpim instanceof ProtocolError) throw bad('MAILBOX_BAD_CPIM', 400, `Bad Request - ${cpim.message}`);
    messageId = readImdn(cpim).messageId;
  }
  let sendAt: number | undefined;
  const sendHeader = getHeader(req, SEND_AT_HEADER);
  if (sendHeader !== undefined) {
    sendAt = parseSendTime(sendHeader);
    if (sendAt === undefined) throw bad('MAILBOX_BAD_SEND_TIME', 400, 'Bad Request - X-Parley-Send-At: RFC 3339 or YYYYMMDDHHMMSS');
    if (sendAt > now + limits.maxSendAheadMs) throw bad('MAILBOX_SEND_TIME_TOO_FAR', 400, 'Bad Request - X-Parley-Send-At too far ahead');
  }
  const message: IncomingMessage = {
    ruri: aor,
    from,
    to,
    contentType,
    body: req.body,
    callId,
    cseq,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(sendAt !== undefined ? { sendAt } : {}),
  };
  return { aor, message, dedupKeys: dedupKeysOf(callId, cseq, messageId) };
}
