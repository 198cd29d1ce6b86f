/**
 * Large messages relayed chunk by chunk while they arrive (issue 5 item 4), instead of after
 * the whole message is in.
 *
 * When the first chunk of a message (Byte-Range starting at 1, more to come) is larger than
 * `thresholdBytes` in total or of unknown size, and carries the whole CPIM header, the room's
 * own relay rules (`decideRelay`, pure) are applied to the room's current state: a refused
 * message is not streamed (its final answer, from the room, says why). Otherwise each chunk is
 * forwarded at once to every recipient session as a chunk of a new message: the CPIM header is
 * rewritten (From with nickname, To, DateTime), so every Byte-Range moves by the header's size
 * difference. When the last chunk is in, the application hands the whole message to the room
 * marked `relayed`: stored in the history and answered 200 after the commit, not relayed again.
 *
 * Chunks arriving out of order before the first one, or a first chunk whose CPIM header spans
 * more than one chunk, fall back to relaying the reassembled message.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { parseCpim } from '../../formats/cpim.js';
import { ProtocolError } from '../../errors.js';
import type { ConferenceContext } from '../../machines/conference.js';
import { decideRelay } from '../../machines/roomRelay.js';
import { newTxId } from '../../transport/msrp/connection.js';
import type { ByteRange } from '../../transport/msrp/byteRange.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { ContinuationFlag } from '../../transport/msrp/message.js';
import { buildRequest } from '../../transport/msrp/serializer.js';
import type { IncomingChunk } from '../../transport/msrp/session.js';
import { relayedCpim } from './relay.js';
import { messageFromCpim } from './request.js';

export interface StreamRelayOptions {
  readonly msrp: MsrpEndpoint;
  readonly logger: Logger;
  /** The room's current state (read only). */
  readonly peek: (room: string) => ConferenceContext | undefined;
  readonly now: () => number;
  /**
   * True when nothing waits in the session's outbox: only such recipients get a message
   * streamed (a streamed message must not overtake what is queued for them); the others get
   * it whole, after what waits, when it is complete.
   */
  readonly idle: (sessionId: string) => boolean;
  /** Messages up to this size are relayed whole. Default 64 KiB. */
  readonly thresholdBytes?: number;
  /** Most messages streamed at once; beyond, messages are relayed whole. Default 1,000. */
  readonly maxStreams?: number;
}

interface Stream {
  readonly targets: readonly string[];
  readonly messageId: string;
  /** Bytes added to every offset: relayed CPIM header length minus the original's. */
  readonly delta: number;
  readonly total: number | undefined;
}

export class StreamRelay {
  private readonly streams = new Map<string, Stream>();
  /** Messages fully streamed, with their recipients, waiting to be handed to the room. */
  private readonly done = new Map<string, readonly string[]>();
  private readonly threshold: number;
  private readonly max: number;
  private readonly idPrefix = randomBytes(6).toString('hex');
  private counter = 0;

  constructor(private readonly o: StreamRelayOptions) {
    this.threshold = o.thresholdBytes ?? 64 * 1024;
    this.max = o.maxStreams ?? 1000;
  }

  /** A chunk from `participantId` of `room` on session `sessionId`. */
  onChunk(room: string, participantId: string, sessionId: string, chunk: IncomingChunk): void {
    const key = `${sessionId}\u0000${chunk.messageId}`;
    const st = this.streams.get(key);
    if (st === undefined) {
      if (chunk.flag === '+' && chunk.byteRange?.start === 1) this.start(key, room, participantId, chunk);
      return;
    }
    const start = (chunk.byteRange?.start ?? 1) + st.delta;
    this.forward(st, { start, end: start + chunk.body.length - 1, total: st.total }, chunk.flag, chunk.body);
    if (chunk.flag !== '+') {
      this.streams.delete(key);
      if (chunk.flag === '$') this.done.set(key, st.targets);
    }
  }

  /** The sessions this complete message was streamed to (once), or undefined when it was not. */
  takeStreamed(sessionId: string, messageId: string): readonly string[] | undefined {
    const key = `${sessionId}\u0000${messageId}`;
    const to = this.done.get(key);
    this.done.delete(key);
    return to;
  }

  /** The sender's session ended: its unfinished streams are aborted (`#`, RFC 4975 7.1.1). */
  forgetSession(sessionId: string): void {
    for (const [key, st] of this.streams) {
      if (!key.startsWith(`${sessionId}\u0000`)) continue;
      this.streams.delete(key);
      this.forward(st, { start: 1, end: 0, total: st.total }, '#', Buffer.alloc(0));
    }
    for (const key of this.done.keys()) if (key.startsWith(`${sessionId}\u0000`)) this.done.delete(key);
  }

  private start(key: string, room: string, participantId: string, chunk: IncomingChunk): void {
    const total = chunk.byteRange?.total;
    if ((total !== undefined && total <= this.threshold) || this.streams.size >= this.max) return;
    const ctx = this.o.peek(room);
    const cpim = ctx === undefined ? undefined : parseCpim(chunk.body);
    if (ctx === undefined || cpim === undefined || cpim instanceof ProtocolError) return;
    const decided = decideRelay(ctx, messageFromCpim(cpim, participantId, '', this.o.now(), ''));
    const relay = decided.find((e) => e.type === 'msrp.relay');
    if (relay === undefined || relay.type !== 'msrp.relay') return; // refused: the room answers at the end
    const header = relayedCpim(relay.message); // empty body: just the rewritten header block
    const delta = header.length - (chunk.body.length - cpim.body.length);
    const size = total === undefined ? undefined : total + delta;
    const targets = relay.sessions.filter((s): s is string => typeof s === 'string' && this.o.idle(s) && this.fits(s, size));
    if (targets.length === 0) return;
    const st: Stream = { targets, messageId: `${this.idPrefix}s${(++this.counter).toString(36)}`, delta, total: size };
    this.streams.set(key, st);
    const body = Buffer.concat([header, cpim.body]);
    this.forward(st, { start: 1, end: body.length, total: st.total }, '+', body);
  }

  /**
   * Whether session `id` takes a message of `size` bytes (undefined: not known yet) by its
   * `a=max-size`. One it may not take gets the whole message at the end, where the relay
   * checks the size it then knows.
   */
  private fits(id: string, size: number | undefined): boolean {
    const max = this.o.msrp.getSession(id)?.remoteMaxSize;
    return max === undefined || (size !== undefined && size <= max);
  }

  private forward(st: Stream, byteRange: ByteRange, flag: ContinuationFlag, body: Buffer): void {
    for (const id of st.targets) {
      const s = this.o.msrp.getSession(id);
      const conn = s?.connection;
      if (s === undefined || conn === undefined || s.remotePath === undefined || s.isEnded) continue;
      const req = buildRequest({ txId: newTxId(), method: 'SEND', toPath: s.remotePath, fromPath: s.localPath, messageId: st.messageId, byteRange, contentType: 'message/cpim', body, flag });
      conn.request(req, true).then(
        (r) => {
          if (r.status !== 200) this.o.logger.debug({ session: id, status: r.status }, 'room: streamed chunk refused');
        },
        (err: unknown) => this.o.logger.warn({ err, session: id }, 'room: streamed chunk not sent'),
      );
    }
  }
}
