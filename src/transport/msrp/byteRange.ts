import { ProtocolError } from '../../errors.js';

/**
 * RFC 4975 section 9 `Byte-Range: range-start "-" range-end "/" total`, 1-based and
 * inclusive; `*` for an end or total that the sender does not know (section 7.1.1).
 */
export interface ByteRange {
  readonly start: number;
  /** Last byte carried, or undefined for `*`. */
  readonly end: number | undefined;
  /** Size of the whole message, or undefined for `*`. */
  readonly total: number | undefined;
}

// 1*DIGIT, bounded so the value stays an exact integer.
const DIGITS = /^[0-9]{1,15}$/;

/** Parses a Byte-Range value; a ProtocolError with status 400 when malformed. */
export function parseByteRange(value: string): ByteRange | ProtocolError {
  const slash = value.indexOf('/');
  const dash = value.indexOf('-');
  if (dash <= 0 || slash < dash) return bad(value);
  const s = value.slice(0, dash);
  const e = value.slice(dash + 1, slash);
  const t = value.slice(slash + 1);
  if (!DIGITS.test(s)) return bad(value);
  const start = Number(s);
  if (start < 1) return bad(value);
  let end: number | undefined;
  if (e !== '*') {
    if (!DIGITS.test(e)) return bad(value);
    end = Number(e);
    // An empty chunk may carry end = start - 1 (e.g. a keep-alive style 1-0/0).
    if (end < start - 1) return bad(value);
  }
  let total: number | undefined;
  if (t !== '*') {
    if (!DIGITS.test(t)) return bad(value);
    total = Number(t);
    if (end !== undefined && end > total) return bad(value);
  }
  return { start, end, total };
}

/** Formats a ByteRange as its header value (inverse of parseByteRange). */
export function formatByteRange(r: ByteRange): string {
  return `${r.start}-${r.end ?? '*'}/${r.total ?? '*'}`;
}

function bad(value: string): ProtocolError {
  return new ProtocolError('MSRP_BAD_BYTE_RANGE', 400, `malformed Byte-Range: ${value.slice(0, 64)}`);
}
