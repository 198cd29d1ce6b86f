import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Logger } from 'pino';
import { type Clock, type TimerHandle, systemClock } from '../../clock.js';
import { MsrpConnection } from './connection.js';
import { type MsrpLimits, resolveMsrpLimits } from './limits.js';
import { listenMsrp, type MsrpListener, type MsrpTlsOptions } from './listener.js';
import type { MsrpRequest } from './message.js';
import type { MsrpUri } from './msrpUri.js';
import { buildResponse } from './serializer.js';
import { MsrpSession, type MsrpSessionOptions, type SessionHost } from './session.js';
import { routeInbound } from './sessionTable.js';
import { DEFAULT_RESPONSE_TIMEOUT_MS } from './transactions.js';

/** Options of an MSRP endpoint. */
export interface MsrpEndpointOptions {
  /** Listening address; default 127.0.0.1:2855. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Host written in local paths when it differs from the listening address. */
  readonly advertisedHost?: string;
  readonly clock?: Clock;
  readonly logger: Logger;
  readonly limits?: Partial<MsrpLimits>;
  /** When set, the listener and local paths use msrps (TLS). */
  readonly tls?: MsrpTlsOptions;
  /** Per-transaction response timeout; default 30 s (becomes a local 408). */
  readonly responseTimeoutMs?: number;
  /** An inbound connection that binds no session within this time is closed. Default 30 s. */
  readonly bindTimeoutMs?: number;
}

/**
 * Parley's MSRP endpoint: one listener, the table of live sessions, and the connection
 * routing rules of RFC 4975 (a connection carries only the sessions negotiated for it).
 * A session costs a small object and at most one timer, so hundreds per process are cheap.
 */
export class MsrpEndpoint implements SessionHost {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: MsrpLimits;
  private readonly sessions = new Map<string, MsrpSession>();
  private readonly connections = new Set<MsrpConnection>();
  private listener: MsrpListener | undefined;
  private readonly responseTimeoutMs: number;
  private readonly bindTimeoutMs: number;

  constructor(private readonly opts: MsrpEndpointOptions) {
    this.clock = opts.clock ?? systemClock();
    this.logger = opts.logger;
    this.limits = resolveMsrpLimits(opts.limits);
    this.responseTimeoutMs = opts.responseTimeoutMs ?? DEFAULT_RESPONSE_TIMEOUT_MS;
    this.bindTimeoutMs = opts.bindTimeoutMs ?? 30_000;
  }

  /** Starts listening; resolves with the bound address. */
  async start(): Promise<{ host: string; port: number }> {
    this.listener = await listenMsrp({ ...this.opts.listen, tls: this.opts.tls }, (s) => this.onInbound(s));
    return { host: this.listener.host, port: this.listener.port };
  }

  /** Number of live sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Creates a session with a fresh random session id; its localUri goes into `a=path`. */
  createSession(opts: MsrpSessionOptions): MsrpSession {
    const l = this.listener;
    if (l === undefined) throw new Error('MsrpEndpoint.start() must be called before createSession()');
    const s = new MsrpSession(
      this,
      { scheme: this.opts.tls !== undefined ? 'msrps' : 'msrp', host: this.opts.advertisedHost ?? l.host, port: l.port },
      opts,
    );
    this.sessions.set(s.id, s);
    return s;
  }

  /** Looks a live session up by id. */
  getSession(id: string): MsrpSession | undefined {
    return this.sessions.get(id);
  }

  /** Ends every session, closes every connection and the listener. */
  async close(): Promise<void> {
    for (const s of [...this.sessions.values()]) s.close('endpoint-closed');
    for (const c of [...this.connections]) c.close('endpoint-closed');
    await this.listener?.close();
    this.listener = undefined;
  }

  /** @internal SessionHost: opens an active session's connection. */
  connect(session: MsrpSession, uri: MsrpUri): Promise<MsrpConnection> {
    const host = uri.host.startsWith('[') ? uri.host.slice(1, -1) : uri.host;
    const port = uri.port ?? 2855;
    return new Promise((resolve, reject) => {
      let socket: Socket;
      const ready = () => {
        socket.off('error', reject);
        resolve(this.adopt(socket));
      };
      if (uri.scheme === 'msrps') {
        const t = this.opts.tls;
        socket = tlsConnect(
          {
            host,
            port,
            ca: t?.ca,
            rejectUnauthorized: t?.rejectUnauthorized ?? true,
            servername: isIP(host) === 0 ? host : undefined,
          },
          ready,
        );
      } else {
        socket = netConnect({ host, port }, ready);
      }
      socket.once('error', reject);
      this.logger.debug({ session: session.id, host, port }, 'MSRP connecting');
    });
  }

  /** @internal SessionHost: forgets a session; a connection left without sessions is closed. */
  release(session: MsrpSession, reason: string): void {
    this.sessions.delete(session.id);
    const conn = session.connection;
    if (conn !== undefined) {
      conn.sessions.delete(session.id);
      if (conn.sessions.size === 0) conn.close('session-ended');
    }
    this.logger.debug({ session: session.id, reason }, 'MSRP session ended');
  }

  private onInbound(socket: Socket): void {
    const conn = this.adopt(socket);
    // A connection must bind a session soon, or it only holds resources.
    let timer: TimerHandle | undefined = this.clock.setTimeout(() => {
      timer = undefined;
      if (conn.sessions.size === 0) conn.close('bind-timeout');
    }, this.bindTimeoutMs);
    socket.once('close', () => {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    });
  }

  private adopt(socket: Socket): MsrpConnection {
    const conn = new MsrpConnection(socket, {
      clock: this.clock,
      logger: this.logger,
      limits: this.limits,
      responseTimeoutMs: this.responseTimeoutMs,
      handlers: {
        onRequest: (c, req) => this.route(c, req),
        onClose: (c, reason) => this.onConnectionClosed(c, reason),
      },
    });
    this.connections.add(conn);
    return conn;
  }

  private route(conn: MsrpConnection, req: MsrpRequest): void {
    const d = routeInbound(this.sessions, conn, req);
    if (!d.ok) {
      const target = req.toPath[req.toPath.length - 1];
      this.logger.warn(
        {
          event: d.hijack ? 'msrp.hijack' : 'msrp.refused',
          status: d.status,
          session: target.sessionId,
          remote: conn.remote,
          fromPath: req.fromPath.map((u) => u.raw).join(' '),
          method: req.method,
        },
        d.hijack ? `MSRP hijack attempt refused: ${d.reason}` : `MSRP request refused: ${d.reason}`,
      );
      // REPORT requests are never answered (RFC 4975 section 7.1.2).
      if (req.method !== 'REPORT') conn.respond(buildResponse(req, d.status));
      return;
    }
    if (d.bind) d.session.bind(conn);
    d.session.handleRequest(req);
  }

  private onConnectionClosed(conn: MsrpConnection, reason: string): void {
    this.connections.delete(conn);
    for (const id of [...conn.sessions]) {
      const s = this.sessions.get(id);
      if (s !== undefined && s.connection === conn) s.close(reason === 'connection-lost' ? 'connection-lost' : reason);
    }
  }
}
