import { ProtocolError } from '../../errors.js';
import type { ByteRange } from './byteRange.js';
import type { FailureReportMode, MsrpRequest } from './message.js';
import type { MsrpUri } from './msrpUri.js';
import { buildRequest, reasonPhrase } from './serializer.js';

/**
 * Whether a SEND with this Failure-Report gets a transaction response with this status
 * (RFC 4975 section 7.1.2): `no` -> never; `partial` -> only errors; `yes` or absent -> always.
 */
export function shouldRespond(failureReport: FailureReportMode | undefined, status: number): boolean {
  if (failureReport === 'no') return false;
  if (failureReport === 'partial') return status !== 200;
  return true;
}

/** Whether a failure discovered after the response must be reported with a REPORT. */
export function wantsFailureReport(failureReport: FailureReportMode | undefined): boolean {
  return failureReport !== 'no';
}

/** What a REPORT says about a message (section 7.1.2). */
export interface ReportInfo {
  readonly messageId: string;
  /** Status code (namespace 000). 200 means success. */
  readonly status: number;
  readonly comment: string | undefined;
  readonly byteRange: ByteRange | undefined;
}

/**
 * Builds a REPORT about a received message, addressed back along its From-Path
 * (section 7.1.2). `Status: 000 200 OK` with the Byte-Range received is a success report.
 */
export function buildReport(opts: {
  txId: string;
  /** The From-Path of the SEND being reported on. */
  toPath: readonly MsrpUri[];
  /** Our path. */
  fromPath: readonly MsrpUri[];
  messageId: string;
  byteRange: ByteRange;
  status: number;
  comment?: string;
}): MsrpRequest {
  return buildRequest({
    txId: opts.txId,
    method: 'REPORT',
    toPath: opts.toPath,
    fromPath: opts.fromPath,
    messageId: opts.messageId,
    byteRange: opts.byteRange,
    status: { namespace: 0, code: opts.status, comment: opts.comment ?? reasonPhrase(opts.status) },
  });
}

/** Reads a received REPORT; 400 when Message-ID or Status is missing (section 7.1.2). */
export function readReport(req: MsrpRequest): ReportInfo | ProtocolError {
  if (req.messageId === undefined || req.status === undefined) {
    return new ProtocolError('MSRP_BAD_REPORT', 400, 'REPORT without Message-ID or Status');
  }
  return { messageId: req.messageId, status: req.status.code, comment: req.status.comment, byteRange: req.byteRange };
}
