import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { ChunkQueue, type OutgoingMessageSpec, type QueuedMessage } from './chunker.js';
import type { MsrpLimits } from './limits.js';
import type { MsrpRequest, MsrpResponse } from './message.js';
import { MsrpParseError, MsrpParser } from './parser.js';
import { buildResponse, serializeMsrp } from './serializer.js';
import { parseMsrpPath } from './msrpUri.js';
import { TransactionTable, type TransactionResult } from './transactions.js';

/** What a connection reports upward. */
export interface ConnectionHandlers {
  onRequest(conn: MsrpConnection, req: MsrpRequest): void;
  onClose(conn: MsrpConnection, reason: string): void;
}

export interface ConnectionOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: MsrpLimits;
  readonly responseTimeoutMs: number;
  readonly handlers: ConnectionHandlers;
}

interface MessageProgress {
  readonly queued: QueuedMessage;
  readonly expectResponses: boolean;
  outstanding: number;
  settled: boolean;
  readonly resolve: (r: TransactionResult) => void;
}

const PUMP_BUDGET = 64 * 1024;

/** A fresh transaction id: 64 random bits, base64url (ident characters only). */
export function newTxId(): string {
  // Random bytes drawn 512 ids at a time: one randomBytes call per transaction was a tenth of
  // a relaying room's CPU (bench/room.ts, 100 participants); the ids stay 64 random bits.
  if (txPoolAt + 8 > txPool.length) {
    txPool = randomBytes(4096);
    txPoolAt = 0;
  }
  const id = txPool.toString('hex', txPoolAt, txPoolAt + 8);
  txPoolAt += 8;
  return id;
}
let txPool = Buffer.alloc(0);
let txPoolAt = 0;

/**
 * One MSRP TCP/TLS connection: frames the byte stream with MsrpParser, matches responses
 * to outgoing transactions, and writes chunks from a round-robin queue under socket
 * backpressure. It knows nothing about sessions beyond handing requests upward.
 */
export class MsrpConnection {
  readonly id = randomBytes(6).toString('hex');
  private readonly parser: MsrpParser;
  private readonly transactions: TransactionTable;
  private readonly queue = new ChunkQueue(newTxId);
  private readonly progress = new Map<QueuedMessage, MessageProgress>();
  private writable = true;
  private closed = false;
  private pumpScheduled = false;
  /** Sessions using this connection (maintained by the endpoint). */
  readonly sessions = new Set<string>();

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.parser = new MsrpParser(opts.limits);
    this.transactions = new TransactionTable(opts.clock, opts.responseTimeoutMs, opts.limits.maxPendingTransactions);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.writable = true;
      this.pump();
    });
    socket.on('error', (err) => {
      opts.logger.debug({ err, conn: this.id }, 'MSRP socket error');
    });
    socket.on('close', () => this.shutdown('connection-lost'));
  }

  /** `host:port` of the peer, for logs. */
  get remote(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Outgoing transactions awaiting a response. */
  get pendingTransactions(): number {
    return this.transactions.size;
  }

  /** Sends one request now (REPORT, NICKNAME, bodiless SEND); resolves on its response or failure. */
  request(req: MsrpRequest, expectResponse: boolean): Promise<TransactionResult> {
    if (this.closed) return Promise.resolve({ status: 0, reason: 'connection-lost' });
    return new Promise((resolve) => {
      if (expectResponse && !this.transactions.start(req.txId, resolve)) {
        resolve({ status: 0, reason: 'overload' });
        return;
      }
      this.write(serializeMsrp(req));
      if (!expectResponse) resolve({ status: 200 });
    });
  }

  /** Sends a response. */
  respond(resp: MsrpResponse): void {
    if (!this.closed) this.write(serializeMsrp(resp));
  }

  /**
   * Queues a message for chunked sending. Resolves with 200 once every chunk is answered
   * 200 (or written, when the sender asked for no responses), or with the first failure;
   * a failure stops the rest of the message (section 7.1.1: 413 means stop sending).
   */
  sendMessage(spec: OutgoingMessageSpec): { queued: QueuedMessage; result: Promise<TransactionResult> } {
    let resolve!: (r: TransactionResult) => void;
    const result = new Promise<TransactionResult>((r) => (resolve = r));
    if (this.closed) {
      resolve({ status: 0, reason: 'connection-lost' });
      return { queued: { spec, sent: 0, chunks: 0, aborted: true, done: true }, result };
    }
    const queued = this.queue.enqueue(spec);
    // Section 7.1.2: with Failure-Report no or partial, a 200 never comes back.
    const expectResponses = spec.failureReport === undefined || spec.failureReport === 'yes';
    this.progress.set(queued, { queued, expectResponses, outstanding: 0, settled: false, resolve });
    this.pump();
    return { queued, result };
  }

  /** Answers a request whose parse failed, when the head allows it. */
  private answerParseError(err: MsrpParseError): void {
    if (err.head === undefined || err.head.start.kind !== 'request') return;
    const to = err.head.headers.find((h) => h.name.toLowerCase() === 'to-path');
    const from = err.head.headers.find((h) => h.name.toLowerCase() === 'from-path');
    if (to === undefined || from === undefined) return;
    const toPath = parseMsrpPath(to.value);
    const fromPath = parseMsrpPath(from.value);
    if (!Array.isArray(toPath) || !Array.isArray(fromPath)) return;
    this.respond(buildResponse({ txId: err.head.start.txId, toPath, fromPath }, err.status));
  }

  private onData(chunk: Buffer): void {
    const items = this.parser.push(chunk);
    // Answers to one segment's requests leave in one write, not one syscall each.
    if (items.length > 1) {
      this.socket.cork();
      process.nextTick(() => this.socket.uncork());
    }
    for (const item of items) {
      if (this.closed) return;
      if (item instanceof MsrpParseError) {
        this.opts.logger.warn({ conn: this.id, remote: this.remote, code: item.code, status: item.status, txId: item.txId }, 'MSRP parse error');
        if (item.fatal) {
          this.close('protocol-error');
          return;
        }
        this.answerParseError(item);
      } else if (item.kind === 'response') {
        this.transactions.resolve(item);
      } else {
        this.opts.handlers.onRequest(this, item);
      }
    }
  }

  private write(buf: Buffer): void {
    if (!this.socket.write(buf)) this.writable = false;
  }

  /**
   * Writes chunks while the socket accepts them, at most PUMP_BUDGET bytes per event-loop
   * turn: a local socket rarely pushes back, and yielding lets messages queued meanwhile
   * join the round-robin instead of waiting behind a large one.
   */
  private pump(): void {
    let budget = PUMP_BUDGET;
    while (this.writable && !this.closed) {
      if (budget <= 0) {
        if (!this.pumpScheduled) {
          this.pumpScheduled = true;
          setImmediate(() => {
            this.pumpScheduled = false;
            this.pump();
          });
        }
        return;
      }
      const c = this.queue.next();
      if (c === undefined) return;
      budget -= (c.request.body?.length ?? 0) + 256;
      const p = this.progress.get(c.message);
      if (p === undefined || p.settled) {
        // Settled (failed) message: only a `#` chunk still goes out.
        if (c.request.flag !== '#') continue;
        this.write(serializeMsrp(c.request));
        continue;
      }
      if (p.expectResponses) {
        p.outstanding++;
        const ok = this.transactions.start(c.request.txId, (r) => this.onChunkResult(p, r, c.last));
        if (!ok) {
          p.outstanding--;
          this.settle(p, { status: 0, reason: 'overload' });
          continue;
        }
      }
      this.write(serializeMsrp(c.request));
      if (c.last && !p.expectResponses) this.settle(p, { status: 200 });
    }
  }

  private onChunkResult(p: MessageProgress, r: TransactionResult, _last: boolean): void {
    p.outstanding--;
    if (r.status !== 200) {
      this.settle(p, r);
      this.queue.abort(p.queued);
      return;
    }
    if (p.queued.done && p.outstanding === 0) this.settle(p, { status: 200 });
  }

  private settle(p: MessageProgress, r: TransactionResult): void {
    if (p.settled) return;
    p.settled = true;
    this.progress.delete(p.queued);
    p.resolve(r);
  }

  /** Closes the socket; pending transactions fail with status 0 (reason closed). */
  close(reason = 'closed'): void {
    if (this.closed) return;
    // Flush what is written (a final response), then release the socket.
    this.socket.end(() => this.socket.destroy());
    this.shutdown(reason);
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const why = reason === 'connection-lost' ? 'connection-lost' : 'closed';
    this.transactions.failAll(why);
    for (const p of [...this.progress.values()]) this.settle(p, { status: 0, reason: why });
    this.opts.handlers.onClose(this, reason);
  }
}
