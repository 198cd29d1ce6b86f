import { ProtocolError } from '../../errors.js';
import { type ByteRange, parseByteRange } from './byteRange.js';
import { type MsrpUri, parseMsrpPath } from './msrpUri.js';

/** End-line continuation flag, RFC 4975 section 5.1: complete, more chunks follow, aborted. */
export type ContinuationFlag = '$' | '+' | '#';

/** One header field as it appeared on the wire (order kept, so serialization is exact). */
export interface MsrpHeader {
  readonly name: string;
  readonly value: string;
}

/** `Success-Report` / `Failure-Report` values, RFC 4975 section 7.1.1 and 7.1.2. */
export type SuccessReportMode = 'yes' | 'no';
export type FailureReportMode = 'yes' | 'no' | 'partial';

/** The `Status` header of a REPORT: `namespace SP status-code [SP comment]` (section 9). */
export interface MsrpStatusHeader {
  readonly namespace: number;
  readonly code: number;
  readonly comment: string | undefined;
}

/** Fields every MSRP transaction has. */
interface MsrpCommon {
  readonly txId: string;
  readonly headers: readonly MsrpHeader[];
  readonly toPath: readonly MsrpUri[];
  readonly fromPath: readonly MsrpUri[];
  readonly flag: ContinuationFlag;
  /** Body bytes, or undefined when the transaction has no content-stuff at all. */
  readonly body: Buffer | undefined;
}

/** An MSRP request: SEND, REPORT, NICKNAME (RFC 7701) or any other method. */
export interface MsrpRequest extends MsrpCommon {
  readonly kind: 'request';
  readonly method: string;
  readonly messageId: string | undefined;
  readonly byteRange: ByteRange | undefined;
  readonly successReport: SuccessReportMode | undefined;
  readonly failureReport: FailureReportMode | undefined;
  readonly status: MsrpStatusHeader | undefined;
  readonly contentType: string | undefined;
  /** RFC 7701 `Use-Nickname`, unquoted. */
  readonly useNickname: string | undefined;
}

/** An MSRP response: `MSRP <txid> <code> [comment]`. */
export interface MsrpResponse extends MsrpCommon {
  readonly kind: 'response';
  readonly status: number;
  readonly comment: string | undefined;
}

export type MsrpMessage = MsrpRequest | MsrpResponse;

/** The start line, decoded. @internal */
export type StartLine =
  | { kind: 'request'; txId: string; method: string }
  | { kind: 'response'; txId: string; status: number; comment: string | undefined };

/**
 * Reads the typed headers out of the raw list and builds the message. Returns a
 * ProtocolError (400) when a header the codec understands is malformed or a mandatory
 * one (To-Path, From-Path: section 7.1) is missing.
 */
export function interpretMessage(
  start: StartLine,
  headers: MsrpHeader[],
  body: Buffer | undefined,
  flag: ContinuationFlag,
): MsrpMessage | ProtocolError {
  let toPath: readonly MsrpUri[] | undefined;
  let fromPath: readonly MsrpUri[] | undefined;
  let messageId: string | undefined;
  let byteRange: ByteRange | undefined;
  let successReport: SuccessReportMode | undefined;
  let failureReport: FailureReportMode | undefined;
  let status: MsrpStatusHeader | undefined;
  let contentType: string | undefined;
  let useNickname: string | undefined;
  for (const h of headers) {
    switch (h.name.toLowerCase()) {
      case 'to-path': {
        const p = parseMsrpPath(h.value);
        if (p instanceof ProtocolError) return p;
        toPath = p;
        break;
      }
      case 'from-path': {
        const p = parseMsrpPath(h.value);
        if (p instanceof ProtocolError) return p;
        fromPath = p;
        break;
      }
      case 'message-id':
        // ident = ALPHANUM 3*31ident-char; accepted leniently but bounded (section 9).
        if (!/^[A-Za-z0-9][A-Za-z0-9.\-+%=]{0,63}$/.test(h.value)) return bad(`bad Message-ID`);
        messageId = h.value;
        break;
      case 'byte-range': {
        const r = parseByteRange(h.value);
        if (r instanceof ProtocolError) return r;
        byteRange = r;
        break;
      }
      case 'success-report':
        if (h.value !== 'yes' && h.value !== 'no') return bad('bad Success-Report');
        successReport = h.value;
        break;
      case 'failure-report':
        if (h.value !== 'yes' && h.value !== 'no' && h.value !== 'partial') return bad('bad Failure-Report');
        failureReport = h.value;
        break;
      case 'status': {
        const m = /^([0-9]{3}) ([0-9]{3})(?: (.*))?$/.exec(h.value);
        if (m === null) return bad('bad Status');
        status = { namespace: Number(m[1]), code: Number(m[2]), comment: m[3] };
        break;
      }
      case 'content-type':
        contentType = h.value;
        break;
      case 'use-nickname': {
        const n = unquote(h.value);
        if (n === undefined) return bad('bad Use-Nickname');
        useNickname = n;
        break;
      }
      default:
        break;
    }
  }
  if (toPath === undefined || fromPath === undefined) return bad('To-Path and From-Path are required');
  if (start.kind === 'response') {
    return {
      kind: 'response',
      txId: start.txId,
      status: start.status,
      comment: start.comment,
      headers,
      toPath,
      fromPath,
      flag,
      body,
    };
  }
  return {
    kind: 'request',
    txId: start.txId,
    method: start.method,
    headers,
    toPath,
    fromPath,
    flag,
    body,
    messageId,
    byteRange,
    successReport,
    failureReport,
    status,
    contentType,
    useNickname,
  };
}

/** Looks a header up by name, case-insensitively; the first occurrence wins. */
export function getHeader(msg: { headers: readonly MsrpHeader[] }, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const h of msg.headers) if (h.name.toLowerCase() === n) return h.value;
  return undefined;
}

/** RFC 3261 quoted-string as used by RFC 7701 Use-Nickname; undefined when malformed. */
function unquote(v: string): string | undefined {
  if (v.length < 2 || v[0] !== '"' || v[v.length - 1] !== '"') return undefined;
  let out = '';
  for (let i = 1; i < v.length - 1; i++) {
    const c = v[i];
    if (c === '\\') {
      i++;
      if (i >= v.length - 1) return undefined;
      out += v[i];
    } else if (c === '"') return undefined;
    else out += c;
  }
  return out;
}

/** Quotes a nickname for Use-Nickname. */
export function quoteNickname(n: string): string {
  return `"${n.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function bad(msg: string): ProtocolError {
  return new ProtocolError('MSRP_BAD_HEADER', 400, msg);
}
