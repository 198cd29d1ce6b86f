import { ProtocolError } from '../../errors.js';
import { type MsrpLimits, resolveMsrpLimits } from './limits.js';
import {
  type ContinuationFlag,
  type MsrpHeader,
  type MsrpMessage,
  type StartLine,
  interpretMessage,
} from './message.js';

/**
 * A parse failure. When `txId` is known the stream stays usable: the parser skips to that
 * transaction's end-line and the transport answers `status` (for a request) using `head`.
 * When `fatal` is true the byte stream cannot be resynchronised and the connection must close.
 */
export class MsrpParseError extends ProtocolError {
  constructor(
    code: string,
    status: number,
    message: string,
    /** Transaction id of the broken transaction, when the start line was readable. */
    readonly txId: string | undefined,
    /** What was read of the transaction (start line and headers) for building the answer. */
    readonly head: { start: StartLine; headers: readonly MsrpHeader[] } | undefined,
    /** True when the connection is unusable. */
    readonly fatal: boolean,
  ) {
    super(code, status, message);
    this.name = 'MsrpParseError';
  }
}

/** Explicit parser states (STYLE.md rule 6). */
const enum State {
  StartLine,
  Headers,
  Body,
  /** Skipping a broken transaction up to its end-line. */
  Discard,
  /** A fatal error happened; input is ignored. */
  Dead,
}

const CR = 13;
const LF = 10;
const DOLLAR = 36;
const PLUS = 43;
const HASH = 35;
const EMPTY = Buffer.alloc(0);
const SEVEN_DASHES = '-------';
// Start line, RFC 4975 section 9: pMSRP SP transact-id SP (method | status-code [SP comment]).
// transact-id is ident (ALPHANUM 3*31ident-char); accepted from 1 character, at most 32.
const START = /^MSRP ([A-Za-z0-9][A-Za-z0-9.\-+%=]{0,31}) (?:([A-Z]+)|([0-9]{3})(?: (.*))?)$/;
const TXID_ONLY = /^MSRP ([A-Za-z0-9][A-Za-z0-9.\-+%=]{0,31}) /;
const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Incremental MSRP parser for one TCP byte stream (RFC 4975 sections 7, 8 and 9).
 * `push(chunk)` returns the transactions completed by that chunk, in order, and the errors
 * met on the way; it never throws. A body ends only at the exact
 * `CRLF -------<own txid>[$+#] CRLF`, so end-lines of other transactions inside a body are data.
 */
export class MsrpParser {
  private readonly limits: MsrpLimits;
  private state = State.StartLine;
  private buf: Buffer = EMPTY;
  private start: StartLine | undefined;
  private headers: MsrpHeader[] = [];
  private headerBytes = 0;
  private endPattern: Buffer = EMPTY;
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;
  /** In Discard: the end-line may start at the current position (no CRLF before it). */
  private atLineStart = false;

  constructor(limits?: Partial<MsrpLimits>) {
    this.limits = resolveMsrpLimits(limits);
  }

  /** True after a fatal error: the connection should be closed. */
  get dead(): boolean {
    return this.state === State.Dead;
  }

  /** Bytes held between pushes (unconsumed input plus the body so far); bounded by the limits. */
  get bufferedBytes(): number {
    return this.buf.length + this.bodyBytes;
  }

  /** Feeds bytes; returns the messages and errors they complete. */
  push(chunk: Buffer): Array<MsrpMessage | MsrpParseError> {
    const out: Array<MsrpMessage | MsrpParseError> = [];
    if (this.state === State.Dead || chunk.length === 0) return out;
    const buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      let next: number;
      switch (this.state) {
        case State.StartLine:
          next = this.readStartLine(buf, pos, out);
          break;
        case State.Headers:
          next = this.readHeaders(buf, pos, out);
          break;
        case State.Body:
          next = this.readBody(buf, pos, out);
          break;
        case State.Discard:
          next = this.discard(buf, pos);
          break;
        default:
          this.buf = EMPTY;
          return out;
      }
      if ((this.state as State) === State.Dead) {
        this.buf = EMPTY;
        return out;
      }
      if (next < 0) {
        // Needs more bytes; keep only what is unconsumed.
        const keep = -next - 1;
        this.buf = keep >= buf.length ? EMPTY : buf.subarray(keep);
        return out;
      }
      pos = next;
      if (pos >= buf.length && this.state !== State.Body && this.state !== State.Discard) {
        this.buf = EMPTY;
        return out;
      }
    }
  }

  // Each reader returns the next position, or -(keep+1) to wait for more with bytes from `keep` kept.

  private readStartLine(buf: Buffer, pos: number, out: Array<MsrpMessage | MsrpParseError>): number {
    // Tolerate stray CRLFs between transactions (some peers send them as keep-alives).
    while (pos + 1 < buf.length && buf[pos] === CR && buf[pos + 1] === LF) pos += 2;
    if (pos >= buf.length) return -(pos + 1);
    const eol = buf.indexOf('\r\n', pos, 'latin1');
    if (eol < 0) {
      if (buf.length - pos > this.limits.maxHeaderBytes) {
        return this.fatal(out, 'MSRP_START_LINE_TOO_LONG', 'start line exceeds maxHeaderBytes');
      }
      if (buf.length - pos >= 5 && buf.toString('latin1', pos, pos + 5) !== 'MSRP ') {
        return this.fatal(out, 'MSRP_BAD_START_LINE', 'stream does not start with MSRP');
      }
      return -(pos + 1);
    }
    const line = buf.toString('utf8', pos, eol);
    const m = START.exec(line);
    this.headers = [];
    this.headerBytes = eol + 2 - pos;
    this.bodyParts = [];
    this.bodyBytes = 0;
    if (m === null) {
      const t = TXID_ONLY.exec(line);
      if (t === null) return this.fatal(out, 'MSRP_BAD_START_LINE', `malformed start line`);
      // The transaction id is readable: report it and skip to its end-line.
      this.start = { kind: 'request', txId: t[1], method: '' };
      this.setTx(t[1]);
      out.push(this.error('MSRP_BAD_START_LINE', 400, 'malformed start line'));
      this.state = State.Discard;
      this.atLineStart = true;
      return eol + 2;
    }
    this.start =
      m[2] !== undefined
        ? { kind: 'request', txId: m[1], method: m[2] }
        : { kind: 'response', txId: m[1], status: Number(m[3]), comment: m[4] };
    this.setTx(m[1]);
    this.state = State.Headers;
    return eol + 2;
  }

  private readHeaders(buf: Buffer, pos: number, out: Array<MsrpMessage | MsrpParseError>): number {
    const txId = this.start!.txId;
    for (;;) {
      const eol = buf.indexOf('\r\n', pos, 'latin1');
      if (eol < 0) {
        if (this.headerBytes + (buf.length - pos) > this.limits.maxHeaderBytes) {
          return this.toDiscard(out, 'MSRP_HEADERS_TOO_LARGE', 'header section exceeds maxHeaderBytes', pos, true);
        }
        return -(pos + 1);
      }
      this.headerBytes += eol + 2 - pos;
      if (this.headerBytes > this.limits.maxHeaderBytes) {
        return this.toDiscard(out, 'MSRP_HEADERS_TOO_LARGE', 'header section exceeds maxHeaderBytes', pos, true);
      }
      if (eol === pos) {
        // Blank line: content-stuff follows (section 9: Content-Type 2CRLF data CRLF end-line).
        this.state = State.Body;
        return eol + 2;
      }
      if (buf[pos] === 45 /* - */ && eol - pos === 8 + txId.length) {
        const line = buf.toString('latin1', pos, eol);
        if (line.startsWith(SEVEN_DASHES) && line.slice(7, 7 + txId.length) === txId) {
          const f = line.charCodeAt(line.length - 1);
          if (f === DOLLAR || f === PLUS || f === HASH) {
            this.finish(out, undefined, String.fromCharCode(f) as ContinuationFlag);
            return eol + 2;
          }
        }
      }
      const line = buf.toString('utf8', pos, eol);
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) {
        return this.toDiscard(out, 'MSRP_BAD_HEADER', 'malformed header line', pos, true);
      }
      if (this.headers.length >= this.limits.maxHeaders) {
        return this.toDiscard(out, 'MSRP_TOO_MANY_HEADERS', 'more than maxHeaders header fields', eol + 2, true);
      }
      // hname ":" SP hval; lenient about the single SP.
      let v = colon + 1;
      while (v < line.length && (line.charCodeAt(v) === 32 || line.charCodeAt(v) === 9)) v++;
      this.headers.push({ name, value: line.slice(v) });
      pos = eol + 2;
    }
  }

  private readBody(buf: Buffer, pos: number, out: Array<MsrpMessage | MsrpParseError>): number {
    const r = this.scanEnd(buf, pos, false);
    const dataEnd = r.found ? r.dataEnd : r.safeEnd;
    const n = dataEnd - pos;
    if (this.bodyBytes + n > this.limits.maxChunkBodyBytes) {
      // Section 7.1.1 / 413: refuse the chunk; keep scanning for its end-line to resync.
      this.bodyParts = [];
      out.push(this.error('MSRP_CHUNK_TOO_LARGE', 413, 'chunk body exceeds maxChunkBodyBytes'));
      if (r.found) {
        this.state = State.StartLine;
        return r.next;
      }
      this.state = State.Discard;
      this.atLineStart = false;
      return r.safeEnd;
    }
    if (n > 0) this.bodyParts.push(buf.subarray(pos, dataEnd));
    this.bodyBytes += n;
    if (!r.found) return -(r.safeEnd + 1);
    const body =
      this.bodyParts.length === 0
        ? EMPTY
        : this.bodyParts.length === 1
          ? this.bodyParts[0]
          : Buffer.concat(this.bodyParts, this.bodyBytes);
    this.bodyParts = [];
    this.finish(out, body, r.flag);
    return r.next;
  }

  private discard(buf: Buffer, pos: number): number {
    const atStart = this.atLineStart;
    if (atStart && buf.length - pos < this.endPattern.length + 1) return -(pos + 1);
    const r = this.scanEnd(buf, pos, atStart);
    this.atLineStart = false;
    if (!r.found) return -(r.safeEnd + 1);
    this.state = State.StartLine;
    return r.next;
  }

  /**
   * Finds `CRLF -------txid flag CRLF` from pos (or, with atStart, the same without the
   * leading CRLF exactly at pos). Bytes before safeEnd cannot belong to an end-line.
   */
  private scanEnd(
    buf: Buffer,
    pos: number,
    atStart: boolean,
  ): { found: true; dataEnd: number; flag: ContinuationFlag; next: number } | { found: false; safeEnd: number } {
    const p = this.endPattern;
    const len = p.length;
    if (atStart) {
      if (buf.length - pos < len + 1) return { found: false, safeEnd: pos };
      if (buf.compare(p, 2, len, pos, pos + len - 2) === 0) {
        const f = buf[pos + len - 2];
        if (isFlag(f) && buf[pos + len - 1] === CR) {
          if (buf[pos + len] === LF) return { found: true, dataEnd: pos, flag: flagOf(f), next: pos + len + 1 };
        }
      }
    }
    let from = pos;
    for (;;) {
      const i = buf.indexOf(p, from);
      if (i < 0) return { found: false, safeEnd: Math.max(pos, buf.length - (len - 1)) };
      if (i + len + 3 > buf.length) return { found: false, safeEnd: i };
      const f = buf[i + len];
      if (isFlag(f) && buf[i + len + 1] === CR && buf[i + len + 2] === LF) {
        return { found: true, dataEnd: i, flag: flagOf(f), next: i + len + 3 };
      }
      from = i + 1;
    }
  }

  private finish(out: Array<MsrpMessage | MsrpParseError>, body: Buffer | undefined, flag: ContinuationFlag): void {
    const start = this.start!;
    const msg = interpretMessage(start, this.headers, body, flag);
    if (msg instanceof ProtocolError) out.push(this.error(msg.code, msg.status, msg.message));
    else out.push(msg);
    this.state = State.StartLine;
    this.start = undefined;
  }

  private setTx(txId: string): void {
    this.endPattern = Buffer.from(`\r\n${SEVEN_DASHES}${txId}`, 'latin1');
  }

  private error(code: string, status: number, message: string): MsrpParseError {
    const start = this.start!;
    return new MsrpParseError(code, status, message, start.txId, { start, headers: this.headers }, false);
  }

  private toDiscard(
    out: Array<MsrpMessage | MsrpParseError>,
    code: string,
    message: string,
    pos: number,
    atLineStart: boolean,
  ): number {
    out.push(this.error(code, 400, message));
    this.state = State.Discard;
    this.atLineStart = atLineStart;
    return pos;
  }

  private fatal(out: Array<MsrpMessage | MsrpParseError>, code: string, message: string): number {
    out.push(new MsrpParseError(code, 400, message, undefined, undefined, true));
    this.state = State.Dead;
    this.buf = EMPTY;
    return -1;
  }
}

function isFlag(b: number | undefined): boolean {
  return b === DOLLAR || b === PLUS || b === HASH;
}

function flagOf(b: number): ContinuationFlag {
  return b === DOLLAR ? '$' : b === PLUS ? '+' : '#';
}
