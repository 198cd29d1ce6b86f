import type { MsrpHeader, FailureReportMode, MsrpRequest, SuccessReportMode } from './message.js';
import type { MsrpUri } from './msrpUri.js';
import { buildRequest } from './serializer.js';

/** Default body bytes per chunk (RFC 4975 section 7.1.1 leaves the size to the sender). */
export const DEFAULT_CHUNK_SIZE = 2048;

/** A message to send, as handed to the queue. */
export interface OutgoingMessageSpec {
  readonly messageId: string;
  readonly toPath: readonly MsrpUri[];
  readonly fromPath: readonly MsrpUri[];
  readonly contentType: string;
  readonly body: Buffer;
  readonly chunkSize?: number;
  readonly successReport?: SuccessReportMode;
  readonly failureReport?: FailureReportMode;
  readonly extraHeaders?: readonly MsrpHeader[];
}

/** A message in the queue, with its progress. */
export interface QueuedMessage {
  readonly spec: OutgoingMessageSpec;
  /** Body bytes already handed out as chunks. */
  sent: number;
  /** Chunks handed out so far. */
  chunks: number;
  aborted: boolean;
  done: boolean;
}

/** One chunk to put on the wire. */
export interface OutgoingChunk {
  readonly message: QueuedMessage;
  readonly request: MsrpRequest;
  /** True for the chunk that ends the message (`$`) or aborts it (`#`). */
  readonly last: boolean;
}

/**
 * The sender queue: splits messages into chunks and round-robins between messages, so a
 * 1 MB message is interleaved with small ones instead of blocking them (RFC 4975 section
 * 5.1: chunking exists so that large messages do not monopolise the connection).
 */
export class ChunkQueue {
  private readonly queue: QueuedMessage[] = [];
  private head = 0;

  constructor(private readonly newTxId: () => string) {}

  /** Messages not fully handed out. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Adds a message at the tail of the rotation. */
  enqueue(spec: OutgoingMessageSpec): QueuedMessage {
    const m: QueuedMessage = { spec, sent: 0, chunks: 0, aborted: false, done: false };
    this.queue.push(m);
    return m;
  }

  /**
   * Marks a message aborted. If chunks were already sent, the next call to next() emits an
   * empty chunk with `#` (section 7.1.1: the sender aborts with the `#` continuation flag);
   * otherwise it is dropped silently.
   */
  abort(m: QueuedMessage): void {
    if (!m.done) m.aborted = true;
  }

  /** The next chunk in round-robin order, or undefined when the queue is empty. */
  next(): OutgoingChunk | undefined {
    while (this.head < this.queue.length) {
      const m = this.queue[this.head];
      this.queue[this.head] = undefined as unknown as QueuedMessage;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (m.done) continue;
      if (m.aborted) {
        m.done = true;
        if (m.chunks === 0) continue;
        return { message: m, request: this.chunk(m, m.sent, 0, '#'), last: true };
      }
      const size = Math.max(1, m.spec.chunkSize ?? DEFAULT_CHUNK_SIZE);
      const len = Math.min(size, m.spec.body.length - m.sent);
      const last = m.sent + len >= m.spec.body.length;
      const req = this.chunk(m, m.sent, len, last ? '$' : '+');
      m.sent += len;
      m.chunks++;
      if (last) m.done = true;
      else this.queue.push(m);
      return { message: m, request: req, last };
    }
    return undefined;
  }

  private chunk(m: QueuedMessage, offset: number, len: number, flag: '$' | '+' | '#'): MsrpRequest {
    const s = m.spec;
    const total = s.body.length;
    return buildRequest({
      txId: this.newTxId(),
      method: 'SEND',
      toPath: s.toPath,
      fromPath: s.fromPath,
      messageId: s.messageId,
      // Byte-Range is 1-based and inclusive (section 7.1.1); an empty chunk is start-(start-1).
      byteRange: { start: offset + 1, end: offset + len, total },
      successReport: s.successReport,
      failureReport: s.failureReport,
      extraHeaders: s.extraHeaders,
      contentType: s.contentType,
      body: s.body.subarray(offset, offset + len),
      flag,
    });
  }
}
