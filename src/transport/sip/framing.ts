/**
 * Cuts a TCP/TLS/WebSocket-less byte stream into SIP messages (RFC 3261 18.3): the header section
 * ends at the first empty line, the body is exactly Content-Length bytes (mandatory on streams).
 * CRLF keep-alives between messages are skipped, and a double CRLF is reported as a ping that the
 * transport answers with a single CRLF pong (RFC 5626 3.5.1, 4.4.1).
 *
 * An explicit state machine in the style of ws' Receiver: chunks are kept in a list and only
 * copied once, when a complete message (or the start line) is cut out; the end of the header
 * section is found by a small automaton over the new bytes only, so a message arriving one byte
 * at a time costs O(n), not O(n^2). Every limit is checked before the bytes are kept.
 */
import { ProtocolError } from '../../errors.js';
import { defaultSipLimits, type SipLimits } from './limits.js';
import { canonicalHeaderName } from './headers.js';

/** What one `push` yields, in stream order. */
export type FramedItem =
  | { type: 'message'; data: Buffer }
  | { type: 'ping' }
  /**
   * The stream is unusable. `head` is the complete header section when the error was found after
   * it (missing, duplicate, malformed or over-size Content-Length), so that the transport can
   * still answer the request (400/413) from its Via/From/To/Call-ID/CSeq before closing.
   */
  | { type: 'error'; error: ProtocolError; head?: Buffer };

const enum State {
  /** Between messages: skipping CR/LF keep-alives. */
  Idle,
  /** Inside the start line and headers, looking for the empty line. */
  Head,
  /** Header section known; waiting for Content-Length body bytes. */
  Body,
  /** After an error: the stream cannot be resynchronized; the transport closes it. */
  Closed,
}

/** Chunks smaller than this are coalesced (see `append`). */
const SMALL_CHUNK = 256;

/** End-of-header automaton states. */
const MID_LINE = 0;
const LINE_START = 1;
const LINE_START_CR = 2;

export class SipStreamFramer {
  private readonly limits: SipLimits;
  private state: State = State.Idle;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Idle: line feeds seen since the last message or ping. */
  private lfs = 0;
  /** Head: bytes of the current message already scanned, and the scan cursor. */
  private scanned = 0;
  private cursorChunk = 0;
  private cursorOffset = 0;
  private dfa = MID_LINE;
  private lineLength = 0;
  private startLineChecked = false;
  /** Body: total length of the message being collected. */
  private messageLength = 0;

  constructor(limits: SipLimits = defaultSipLimits) {
    this.limits = limits;
  }

  /** True after an error: nothing more will be framed; close the connection. */
  get closed(): boolean {
    return this.state === State.Closed;
  }

  /** Bytes currently held (for tests and metrics). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feed the next chunk of the stream; returns the complete messages, pings and (at most one,
   * final) error it completes. Never throws.
   */
  push(chunk: Buffer): FramedItem[] {
    const items: FramedItem[] = [];
    if (this.state === State.Closed || !Buffer.isBuffer(chunk) || chunk.length === 0) return items;
    this.append(chunk);
    try {
      this.run(items);
    } catch (e) {
      this.fail(items, new ProtocolError('SIP_FRAMER_BUG', 0, `framer failure: ${(e as Error).message}`));
    }
    return items;
  }

  /**
   * Keep the chunk. Tiny chunks (a peer trickling bytes) are merged into the previous tiny one,
   * so that a 1 MiB body sent one byte per segment costs ~4,000 Buffer objects, not a million;
   * each merge copies at most SMALL_CHUNK * 2 bytes.
   */
  private append(chunk: Buffer): void {
    const last = this.chunks.length - 1;
    if (chunk.length < SMALL_CHUNK && last >= 0 && this.chunks[last].length < SMALL_CHUNK) {
      const prev = this.chunks[last];
      this.chunks[last] = Buffer.concat([prev, chunk]);
      // The head scan already passed `prev`: resume inside the merged chunk.
      if (this.cursorChunk > last) {
        this.cursorChunk = last;
        this.cursorOffset = prev.length;
      }
    } else this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** @internal Number of buffers held (tests: bounded even when fed byte by byte). */
  get bufferedChunks(): number {
    return this.chunks.length;
  }

  private run(items: FramedItem[]): void {
    for (;;) {
      switch (this.state) {
        case State.Idle:
          if (!this.skipKeepAlives(items)) return;
          this.state = State.Head;
          this.scanned = 0;
          this.cursorChunk = 0;
          this.cursorOffset = 0;
          this.dfa = MID_LINE;
          this.lineLength = 0;
          this.startLineChecked = false;
          break;
        case State.Head:
          if (!this.scanHead(items)) return;
          break;
        case State.Body:
          if (this.buffered < this.messageLength) return;
          items.push({ type: 'message', data: this.take(this.messageLength) });
          this.state = State.Idle;
          this.lfs = 0;
          break;
        case State.Closed:
          return;
      }
    }
  }

  /** Drop leading CR/LF; report a ping per double CRLF. True when a message byte is next. */
  private skipKeepAlives(items: FramedItem[]): boolean {
    while (this.chunks.length > 0) {
      const c = this.chunks[0];
      let i = 0;
      while (i < c.length && (c[i] === 0x0d || c[i] === 0x0a)) {
        if (c[i] === 0x0a && ++this.lfs === 2) {
          this.lfs = 0;
          // Back-to-back pings in one read are answered once: one pong keeps the flow alive.
          if (items.length === 0 || items[items.length - 1].type !== 'ping') items.push({ type: 'ping' });
        }
        i++;
      }
      if (i < c.length) {
        this.chunks[0] = c.subarray(i);
        this.buffered -= i;
        this.lfs = 0;
        return true;
      }
      this.chunks.shift();
      this.buffered -= c.length;
    }
    return false;
  }

  /** Advance the end-of-header automaton over unscanned bytes. True when the state changed. */
  private scanHead(items: FramedItem[]): boolean {
    const { maxMessageBytes, maxHeaderLineBytes } = this.limits;
    while (this.cursorChunk < this.chunks.length) {
      const c = this.chunks[this.cursorChunk];
      for (let i = this.cursorOffset; i < c.length; i++) {
        const b = c[i];
        this.scanned++;
        if (this.scanned > maxMessageBytes) {
          this.fail(items, new ProtocolError('SIP_MESSAGE_TOO_LARGE', 513, 'Message Too Large - header section'));
          return true;
        }
        if (this.dfa === MID_LINE) {
          if (b === 0x0a) {
            this.dfa = LINE_START;
            this.lineLength = 0;
            if (!this.startLineChecked && !this.checkStartLine(items)) return true;
          } else if (++this.lineLength > maxHeaderLineBytes) {
            this.fail(items, new ProtocolError('SIP_HEADER_TOO_LONG', 513, 'Message Too Large - header line'));
            return true;
          }
        } else if (b === 0x0a) {
          this.cursorChunk = 0;
          this.cursorOffset = 0;
          this.endOfHead(items);
          return true;
        } else if (this.dfa === LINE_START && b === 0x0d) {
          this.dfa = LINE_START_CR;
        } else {
          this.dfa = MID_LINE;
          this.lineLength = 1;
        }
      }
      this.cursorChunk++;
      this.cursorOffset = 0;
    }
    // Everything buffered is scanned; resume from the end next time.
    this.cursorChunk = this.chunks.length;
    this.cursorOffset = 0;
    return false;
  }

  /**
   * The first line must look like SIP before we buffer up to maxMessageBytes of it: this closes
   * an HTTP request or a TLS ClientHello sent to a TCP port at once.
   */
  private checkStartLine(items: FramedItem[]): boolean {
    this.startLineChecked = true;
    const line = this.peek(this.scanned).toString('latin1').replace(/\r?\n$/, '');
    if (/^SIP\/\d+\.\d+ /i.test(line) || /^[!-~]+ +\S+ +SIP\/\d+\.\d+ *$/i.test(line)) return true;
    this.fail(items, new ProtocolError('SIP_BAD_START_LINE', 400, 'Bad Request - not a SIP start line'));
    return false;
  }

  /** The header section is complete: read Content-Length and switch to Body (or fail). */
  private endOfHead(items: FramedItem[]): void {
    const headLength = this.scanned;
    const headBuf = this.peek(headLength);
    const head = headBuf.toString('latin1');
    const isResponse = /^SIP\//i.test(head);
    const answerable = (status: number): number => (isResponse ? 0 : status);
    const lines = head.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    const values: string[] = [];
    let current: string | undefined;
    const take = (): void => {
      if (current === undefined) return;
      const colon = current.indexOf(':');
      if (colon > 0 && canonicalHeaderName(current.slice(0, colon)) === 'content-length') values.push(current.slice(colon + 1).trim());
      current = undefined;
    };
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      if (l.length > 0 && (l[0] === ' ' || l[0] === '\t') && current !== undefined) current += ' ' + l.trim();
      else {
        take();
        current = l;
      }
    }
    take();
    if (values.length === 0) {
      // RFC 3261 18.3: on a stream Content-Length MUST be present; without it the message
      // boundary is unknowable.
      this.fail(items, new ProtocolError('SIP_MISSING_CONTENT_LENGTH', answerable(400), 'Bad Request - missing Content-Length on a stream transport'), headBuf);
      return;
    }
    if (values.length > 1) {
      this.fail(items, new ProtocolError('SIP_DUPLICATE_HEADER', answerable(400), 'Bad Request - multiple Content-Length values'), headBuf);
      return;
    }
    if (!/^\d{1,15}$/.test(values[0])) {
      this.fail(items, new ProtocolError('SIP_BAD_CONTENT_LENGTH', answerable(400), 'Bad Request - malformed Content-Length'), headBuf);
      return;
    }
    const length = Number(values[0]);
    // Check the declared size before buffering a byte of the body (ws' haveLength).
    if (length > this.limits.maxBodyBytes) {
      this.fail(items, new ProtocolError('SIP_BODY_TOO_LARGE', answerable(413), 'Request Entity Too Large'), headBuf);
      return;
    }
    this.messageLength = headLength + length;
    this.state = State.Body;
  }

  private fail(items: FramedItem[], error: ProtocolError, head?: Buffer): void {
    items.push(head === undefined ? { type: 'error', error } : { type: 'error', error, head });
    this.state = State.Closed;
    this.chunks = [];
    this.buffered = 0;
  }

  /** Copy of the first `n` buffered bytes, without consuming them. */
  private peek(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (const c of this.chunks) {
      if (filled >= n) break;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
    }
    return out;
  }

  /** Remove and return the first `n` buffered bytes (one copy). */
  private take(n: number): Buffer {
    const out = this.peek(n);
    let left = n;
    while (left > 0) {
      const c = this.chunks[0];
      if (c.length <= left) {
        this.chunks.shift();
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
    return out;
  }
}
