import { type ByteRange, formatByteRange } from './byteRange.js';
import type {
  ContinuationFlag,
  FailureReportMode,
  MsrpHeader,
  MsrpMessage,
  MsrpRequest,
  MsrpResponse,
  MsrpStatusHeader,
  SuccessReportMode,
} from './message.js';
import { quoteNickname } from './message.js';
import { type MsrpUri, parseMsrpPath } from './msrpUri.js';

/**
 * Serializes a message: the exact inverse of MsrpParser for well-formed input (headers in
 * their order, `name: value`, then `CRLF body CRLF` when there is a body, then the end-line).
 */
export function serializeMsrp(msg: MsrpMessage): Buffer {
  let head =
    msg.kind === 'request'
      ? `MSRP ${msg.txId} ${msg.method}\r\n`
      : `MSRP ${msg.txId} ${msg.status}${msg.comment !== undefined ? ` ${msg.comment}` : ''}\r\n`;
  for (const h of msg.headers) head += `${h.name}: ${h.value}\r\n`;
  const end = `-------${msg.txId}${msg.flag}\r\n`;
  if (msg.body === undefined) return Buffer.from(head + end, 'utf8');
  const headBuf = Buffer.from(`${head}\r\n`, 'utf8');
  const endBuf = Buffer.from(`\r\n${end}`, 'latin1');
  return Buffer.concat([headBuf, msg.body, endBuf], headBuf.length + msg.body.length + endBuf.length);
}

/** What a caller gives to build a request; headers are emitted in this canonical order. */
export interface RequestSpec {
  txId: string;
  method: string;
  toPath: readonly MsrpUri[];
  fromPath: readonly MsrpUri[];
  messageId?: string;
  byteRange?: ByteRange;
  successReport?: SuccessReportMode;
  failureReport?: FailureReportMode;
  status?: MsrpStatusHeader;
  useNickname?: string;
  /** Extension headers, emitted after the known ones and before Content-Type. */
  extraHeaders?: readonly MsrpHeader[];
  contentType?: string;
  body?: Buffer;
  flag?: ContinuationFlag;
}

/** Builds a request whose raw header list and typed fields agree. */
export function buildRequest(spec: RequestSpec): MsrpRequest {
  const headers: MsrpHeader[] = [
    { name: 'To-Path', value: spec.toPath.map((u) => u.raw).join(' ') },
    { name: 'From-Path', value: spec.fromPath.map((u) => u.raw).join(' ') },
  ];
  if (spec.messageId !== undefined) headers.push({ name: 'Message-ID', value: spec.messageId });
  if (spec.byteRange !== undefined) headers.push({ name: 'Byte-Range', value: formatByteRange(spec.byteRange) });
  if (spec.successReport !== undefined) headers.push({ name: 'Success-Report', value: spec.successReport });
  if (spec.failureReport !== undefined) headers.push({ name: 'Failure-Report', value: spec.failureReport });
  if (spec.status !== undefined) {
    const s = spec.status;
    const ns = String(s.namespace).padStart(3, '0');
    headers.push({ name: 'Status', value: `${ns} ${s.code}${s.comment !== undefined ? ` ${s.comment}` : ''}` });
  }
  if (spec.useNickname !== undefined) headers.push({ name: 'Use-Nickname', value: quoteNickname(spec.useNickname) });
  if (spec.extraHeaders !== undefined) headers.push(...spec.extraHeaders);
  // Section 7.1.1: a request with a body carries Content-Type as the last header.
  if (spec.contentType !== undefined) headers.push({ name: 'Content-Type', value: spec.contentType });
  return {
    kind: 'request',
    txId: spec.txId,
    method: spec.method,
    headers,
    toPath: spec.toPath,
    fromPath: spec.fromPath,
    flag: spec.flag ?? '$',
    body: spec.body,
    messageId: spec.messageId,
    byteRange: spec.byteRange,
    successReport: spec.successReport,
    failureReport: spec.failureReport,
    status: spec.status,
    contentType: spec.contentType,
    useNickname: spec.useNickname,
  };
}

/**
 * Builds the response to a request (RFC 4975 section 7.2): To-Path is the previous hop
 * (the first From-Path URI), From-Path is this endpoint (the last To-Path URI).
 */
export function buildResponse(
  req: { txId: string; toPath: readonly MsrpUri[]; fromPath: readonly MsrpUri[] },
  status: number,
  comment?: string,
): MsrpResponse {
  const to = [req.fromPath[0]];
  const from = [req.toPath[req.toPath.length - 1]];
  return {
    kind: 'response',
    txId: req.txId,
    status,
    comment: comment ?? reasonPhrase(status),
    headers: [
      { name: 'To-Path', value: to[0].raw },
      { name: 'From-Path', value: from[0].raw },
    ],
    toPath: to,
    fromPath: from,
    flag: '$',
    body: undefined,
  };
}

/** Default comments for the status codes of RFC 4975 section 10 and RFC 7701. */
export function reasonPhrase(status: number): string | undefined {
  return REASONS[status];
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  408: 'Request Timeout',
  413: 'Message Too Large',
  415: 'Unsupported Media Type',
  423: 'Parameter Out Of Bounds',
  425: 'Nickname Already In Use',
  481: 'No Such Session',
  501: 'Not Implemented',
  506: 'Session Already Bound',
};

/** Convenience for tests and tools: parses a path string or throws. @internal */
export function pathOf(value: string): MsrpUri[] {
  const p = parseMsrpPath(value);
  if (!Array.isArray(p)) throw p;
  return p;
}
