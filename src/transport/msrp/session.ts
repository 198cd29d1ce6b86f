import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import type { ByteRange } from './byteRange.js';
import { DEFAULT_CHUNK_SIZE } from './chunker.js';
import type { MsrpConnection } from './connection.js';
import { newTxId } from './connection.js';
import type { MsrpLimits } from './limits.js';
import type { ContinuationFlag, FailureReportMode, MsrpHeader, MsrpRequest, SuccessReportMode } from './message.js';
import { type MsrpUri, parseMsrpPath } from './msrpUri.js';
import { Reassembler } from './reassembler.js';
import { buildReport, readReport, type ReportInfo, shouldRespond, wantsFailureReport } from './reports.js';
import { buildRequest, buildResponse } from './serializer.js';
import type { TransactionResult } from './transactions.js';

/** How an endpoint serves its sessions (implemented by MsrpEndpoint). @internal */
export interface SessionHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: MsrpLimits;
  /** Opens the connection of an active session to `uri`. */
  connect(session: MsrpSession, uri: MsrpUri): Promise<MsrpConnection>;
  /** Forgets the session (table and connection). */
  release(session: MsrpSession, reason: string): void;
}

/** Options of a session. */
export interface MsrpSessionOptions {
  /** Negotiated RFC 6135 role: passive waits for the peer to connect, active connects. */
  readonly setup: 'active' | 'passive';
  /** Types accepted in SEND bodies (`*`, `type/*` allowed); others get 415. Default: any. */
  readonly acceptTypes?: readonly string[];
  /**
   * `message` (default): reassemble and emit `message`, intermediate chunks answered 200 at
   * once. `chunks`: no reassembly; every chunk is emitted with its own respond().
   */
  readonly deliver?: 'message' | 'chunks';
  /** Close the session after this long without traffic (0 = never). Default 0. */
  readonly idleTimeoutMs?: number;
}

/** The peer's side, from its SDP. */
export interface MsrpRemoteInfo {
  /** `a=path` URIs. */
  readonly path: readonly string[];
  /** `a=max-size`: the largest message the peer wishes to receive (RFC 4975 8.6). */
  readonly maxSize?: number | undefined;
}

/** Answering an incoming transaction: nothing is answered until the application says so. */
export interface Answerable {
  /** Answers 200 (and sends a success REPORT when asked for). */
  accept(): void;
  /** Answers with this status (and a failure REPORT when the RFC rules call for one). */
  respond(status: number, comment?: string): void;
  /** True once answered. */
  readonly answered: boolean;
}

/** A complete incoming message (all chunks received). */
export interface IncomingMessage extends Answerable {
  readonly messageId: string;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  /** Headers of the last chunk. */
  readonly headers: readonly MsrpHeader[];
  /** The last chunk's request. */
  readonly request: MsrpRequest;
}

/** An incoming chunk. `answer` is set only with `deliver: 'chunks'`. */
export interface IncomingChunk {
  readonly messageId: string;
  readonly byteRange: ByteRange | undefined;
  readonly flag: ContinuationFlag;
  readonly contentType: string | undefined;
  readonly body: Buffer;
  readonly request: MsrpRequest;
  readonly answer: Answerable | undefined;
}

/** An RFC 7701 NICKNAME request: accept() for 200, respond(425) when the name is taken. */
export interface IncomingNickname extends Answerable {
  readonly nickname: string;
  readonly request: MsrpRequest;
}

/** Events of a session. */
export interface MsrpSessionEvents {
  message: [IncomingMessage];
  chunk: [IncomingChunk];
  nickname: [IncomingNickname];
  report: [ReportInfo];
  connected: [];
  ended: [{ reason: string }];
}

/** Options of send(). */
export interface SendOptions {
  readonly messageId?: string;
  readonly successReport?: SuccessReportMode;
  readonly failureReport?: FailureReportMode;
  readonly chunkSize?: number;
  readonly extraHeaders?: readonly MsrpHeader[];
}

/** Result of send(): the status, and the Message-ID used (to match success reports). */
export interface SendResult extends TransactionResult {
  readonly messageId: string;
}

/**
 * One MSRP session (RFC 4975): a local path whose session id is an unguessable secret
 * (120 random bits), the negotiated peer path, and at most one connection.
 */
export class MsrpSession extends EventEmitter<MsrpSessionEvents> {
  readonly id: string;
  readonly localPath: readonly MsrpUri[];
  readonly setup: 'active' | 'passive';
  remotePath: readonly MsrpUri[] | undefined;
  /** The peer's `a=max-size`, when it gave one: senders should not exceed it (RFC 4975 8.6). */
  remoteMaxSize: number | undefined;
  connection: MsrpConnection | undefined;
  private reassembler: Reassembler | undefined;
  private ended = false;
  private lastActivity: number;
  private idleTimer: TimerHandle | undefined;
  private readonly acceptTypes: readonly string[] | undefined;
  private readonly deliver: 'message' | 'chunks';
  private readonly idleTimeoutMs: number;
  /** Messages with intermediate chunks already answered 200, for failure REPORTs. */
  private readonly chunked = new Set<string>();

  /** @internal Created by MsrpEndpoint.createSession. */
  constructor(
    private readonly host: SessionHost,
    local: { scheme: 'msrp' | 'msrps'; host: string; port: number },
    opts: MsrpSessionOptions,
  ) {
    super();
    this.id = randomBytes(15).toString('base64url');
    const raw = `${local.scheme}://${local.host.includes(':') ? `[${local.host}]` : local.host}:${local.port}/${this.id};tcp`;
    const p = parseMsrpPath(raw);
    if (p instanceof ProtocolError) throw p; // our own host name is malformed: a configuration bug
    this.localPath = p;
    this.setup = opts.setup;
    this.acceptTypes = opts.acceptTypes;
    this.deliver = opts.deliver ?? 'message';
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    this.lastActivity = host.clock.now();
    this.armIdle(this.idleTimeoutMs);
  }

  /** Our `a=path` value. */
  get localUri(): string {
    return this.localPath[0].raw;
  }

  /** Where an SDP offer or answer says this session is reached: c= address, m= port, a=path. */
  get sdpLocal(): { address: string; port: number; path: string } {
    const local = this.localPath[0];
    return { address: local.host.replace(/^\[|\]$/g, ''), port: local.port ?? 2855, path: this.localUri };
  }

  /** True while the session waits for the peer's connection (passive, remote known). */
  get expectingConnection(): boolean {
    return !this.ended && this.setup === 'passive' && this.remotePath !== undefined && this.connection === undefined;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Sets the peer path (and size limit) from its SDP; a ProtocolError (400) when the path is malformed. */
  setRemote(info: MsrpRemoteInfo): ProtocolError | undefined {
    const p = parseMsrpPath(info.path.join(' '));
    if (p instanceof ProtocolError) return p;
    this.remotePath = p;
    this.remoteMaxSize = info.maxSize;
    return undefined;
  }

  /**
   * Active side: opens the connection to the last URI of the peer path and sends the
   * bodiless SEND that binds it (RFC 4975 section 7.1.1: the connecting side sends first).
   */
  async connect(): Promise<TransactionResult> {
    if (this.remotePath === undefined) return { status: 0, reason: 'not-connected' };
    if (this.connection !== undefined) return { status: 200 };
    let conn: MsrpConnection;
    try {
      conn = await this.host.connect(this, this.remotePath[this.remotePath.length - 1]);
    } catch (err) {
      this.host.logger.warn({ err, session: this.id }, 'MSRP connect failed');
      return { status: 0, reason: 'connection-lost' };
    }
    if (this.ended) {
      conn.close('session-ended');
      return { status: 0, reason: 'closed' };
    }
    this.bind(conn);
    const r = await conn.request(this.request('SEND', { messageId: newTxId() }), true);
    if (r.status !== 200) this.close('bind-refused');
    return r;
  }

  /**
   * Sends a message, chunked (default 2048 bytes per chunk) and interleaved with other
   * messages on the connection. Resolves on the 200 of the last chunk, the first error
   * response, or a local failure (408 timeout, status 0 for connection loss).
   */
  send(content: Buffer, contentType: string, opts: SendOptions = {}): Promise<SendResult> {
    // Hex: Message-ID is an ident (RFC 4975 section 9), which excludes '_'.
    const messageId = opts.messageId ?? randomBytes(12).toString('hex');
    const conn = this.connection;
    if (this.ended || conn === undefined || this.remotePath === undefined) {
      return Promise.resolve({ status: 0, reason: this.ended ? 'closed' : 'not-connected', messageId });
    }
    this.touch();
    const { result } = conn.sendMessage({
      messageId,
      toPath: this.remotePath,
      fromPath: this.localPath,
      contentType,
      body: content,
      chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE,
      successReport: opts.successReport,
      failureReport: opts.failureReport,
      extraHeaders: opts.extraHeaders,
    });
    return result.then((r) => ({ ...r, messageId }));
  }

  /** Sends an RFC 7701 NICKNAME request; 200 accepted, 425 taken. */
  sendNickname(nickname: string): Promise<TransactionResult> {
    const conn = this.connection;
    if (this.ended || conn === undefined) return Promise.resolve({ status: 0, reason: 'not-connected' });
    this.touch();
    return conn.request(this.request('NICKNAME', { useNickname: nickname }), true);
  }

  /** Ends the session (idempotent); emits `ended` once. */
  close(reason = 'closed'): void {
    if (this.ended) return;
    this.ended = true;
    if (this.idleTimer !== undefined) this.host.clock.clearTimeout(this.idleTimer);
    this.reassembler?.clear();
    this.host.release(this, reason);
    this.connection = undefined;
    this.emit('ended', { reason });
  }

  /** @internal The endpoint attaches the connection after routing allowed it. */
  bind(conn: MsrpConnection): void {
    this.connection = conn;
    conn.sessions.add(this.id);
    this.emit('connected');
  }

  /** @internal A request routed to this session. */
  handleRequest(req: MsrpRequest): void {
    if (this.ended) return;
    this.touch();
    switch (req.method) {
      case 'SEND':
        this.onSend(req);
        return;
      case 'REPORT': {
        // Section 7.1.2: REPORT requests are never answered.
        const r = readReport(req);
        if (r instanceof ProtocolError) this.host.logger.debug({ session: this.id }, r.message);
        else this.emit('report', r);
        return;
      }
      case 'NICKNAME': {
        if (req.useNickname === undefined) return this.answer(req, 400);
        if (this.listenerCount('nickname') === 0) return this.answer(req, 501);
        const a = this.answerable(req, undefined);
        this.emit('nickname', Object.assign(a, { nickname: req.useNickname, request: req }));
        return;
      }
      default:
        // Section 7.2 / 12: unknown method -> 501.
        this.answer(req, 501);
    }
  }

  private onSend(req: MsrpRequest): void {
    // A bodiless SEND is a keep-alive (and binds the connection): answered, not delivered.
    if (req.body === undefined) return this.answer(req, 200);
    if (req.messageId === undefined) return this.answer(req, 400);
    if (req.contentType !== undefined && !this.acceptable(req.contentType)) return this.answer(req, 415);
    const base = { messageId: req.messageId, byteRange: req.byteRange, flag: req.flag, contentType: req.contentType, body: req.body, request: req };
    if (this.deliver === 'chunks') {
      this.emit('chunk', { ...base, answer: this.answerable(req, req.byteRange) });
      return;
    }
    this.emit('chunk', { ...base, answer: undefined });
    this.reassembler ??= new Reassembler(this.host.limits);
    const r = this.reassembler.push(base);
    switch (r.kind) {
      case 'partial':
        this.chunked.add(r.messageId);
        return this.answer(req, 200);
      case 'aborted':
        this.chunked.delete(r.messageId);
        return this.answer(req, 200);
      case 'error':
        this.answer(req, r.status);
        if (this.chunked.delete(r.messageId) && wantsFailureReport(req.failureReport)) {
          this.report(req, r.status, { start: 1, end: req.byteRange?.end ?? undefined, total: req.byteRange?.total });
        }
        return;
      case 'complete': {
        const total = r.body.length;
        const a = this.answerable(req, { start: 1, end: total, total });
        this.emit('message', Object.assign(a, { messageId: r.messageId, contentType: r.contentType, body: r.body, headers: req.headers, request: req }));
      }
    }
  }

  /** An answer handle; a success REPORT follows accept() when requested, a failure REPORT follows errors after earlier 200s. */
  private answerable(req: MsrpRequest, range: ByteRange | undefined): Answerable {
    let answered = false;
    const respond = (status: number, comment?: string) => {
      if (answered || this.ended) return;
      answered = true;
      this.answer(req, status, comment);
      const wasChunked = req.messageId !== undefined && this.chunked.delete(req.messageId);
      if (range === undefined || req.messageId === undefined) return;
      if (status === 200 && req.successReport === 'yes') this.report(req, 200, range);
      else if (status !== 200 && wasChunked && wantsFailureReport(req.failureReport)) this.report(req, status, range);
    };
    return {
      accept: () => respond(200),
      respond,
      get answered() {
        return answered;
      },
    };
  }

  private answer(req: MsrpRequest, status: number, comment?: string): void {
    if (!shouldRespond(req.failureReport, status)) return;
    this.connection?.respond(buildResponse(req, status, comment));
  }

  private report(req: MsrpRequest, status: number, byteRange: ByteRange): void {
    const conn = this.connection;
    if (conn === undefined || req.messageId === undefined) return;
    const rep = buildReport({ txId: newTxId(), toPath: req.fromPath, fromPath: this.localPath, messageId: req.messageId, byteRange, status });
    void conn.request(rep, false);
  }

  private request(method: string, extra: { messageId?: string; useNickname?: string }): MsrpRequest {
    return buildRequest({ txId: newTxId(), method, toPath: this.remotePath ?? [], fromPath: this.localPath, ...extra });
  }

  private acceptable(ct: string): boolean {
    if (this.acceptTypes === undefined) return true;
    const t = ct.split(';')[0].trim().toLowerCase();
    return this.acceptTypes.some((a) => {
      const p = a.toLowerCase();
      return p === '*' || p === t || (p.endsWith('/*') && t.startsWith(p.slice(0, -1)));
    });
  }

  private touch(): void {
    this.lastActivity = this.host.clock.now();
  }

  /** One timer per session, re-armed lazily from lastActivity (no timer churn per message). */
  private armIdle(ms: number): void {
    if (this.idleTimeoutMs <= 0 || this.ended) return;
    this.idleTimer = this.host.clock.setTimeout(() => {
      const idle = this.host.clock.now() - this.lastActivity;
      if (idle >= this.idleTimeoutMs) this.close('idle');
      else this.armIdle(this.idleTimeoutMs - idle);
    }, ms);
  }
}
