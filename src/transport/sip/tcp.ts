/**
 * SIP over TCP and TLS (RFC 3261 18, RFC 5626 3.5.1 keep-alive): a listener per protocol and a
 * table of open connections, inbound and outbound, so that responses go back on the
 * connection the request came on (18.2.2) and requests to a peer reuse an open connection.
 * Each connection runs its own `SipStreamFramer`; the stack gets whole messages.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { ProtocolError } from '../../errors.js';
import { SipStreamFramer } from './framing.js';
import type { SipLimits } from './limits.js';
import { unbracket } from './udp.js';

/** One stream connection. */
export interface SipConnection {
  readonly id: number;
  readonly transport: 'tcp' | 'tls';
  readonly remoteHost: string;
  readonly remotePort: number;
  readonly closed: boolean;
  write(data: Buffer): void;
  /** Closes after pending writes are flushed. */
  close(): void;
}

/** Options of a TCP or TLS listener. */
export interface StreamOptions {
  readonly transport: 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
  readonly limits: SipLimits;
  readonly logger: Logger;
  /** PEM certificate and key; required for TLS. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca?: string | Buffer; readonly rejectUnauthorized?: boolean };
  /** Most connections kept open at once (default 10,000); more are refused. */
  readonly maxConnections?: number;
  /** Bytes buffered for writing on one connection before it is dropped (default 4 MiB). */
  readonly maxWriteBuffer?: number;
}

/** What the stack receives. */
export interface StreamEvents {
  message(data: Buffer, conn: SipConnection): void;
  /**
   * The framer refused the stream (e.g. 413); the connection is closed after the callback.
   * `head` is the header section of the offending request when the framer had it (so that the
   * 413 carries its Via, Call-ID and CSeq).
   */
  framingError(error: ProtocolError, conn: SipConnection, head: Buffer | undefined): void;
}

const CRLF = Buffer.from('\r\n');

class Connection implements SipConnection {
  closed = false;
  readonly framer: SipStreamFramer;

  constructor(
    readonly id: number,
    readonly transport: 'tcp' | 'tls',
    readonly remoteHost: string,
    readonly remotePort: number,
    readonly socket: Socket | TLSSocket,
    limits: SipLimits,
    private readonly maxWriteBuffer: number,
  ) {
    this.framer = new SipStreamFramer(limits);
  }
  write(data: Buffer): void {
    if (this.closed) return;
    if (this.socket.writableLength > this.maxWriteBuffer) {
      this.socket.destroy();
      return;
    }
    this.socket.write(data);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
  }
}

/** A TCP or TLS listener plus its connection table. */
export class StreamTransport {
  private server: Server | undefined;
  private readonly conns = new Map<string, Connection>();
  private readonly all = new Set<Connection>();
  private nextId = 1;
  private events: StreamEvents = { message() {}, framingError() {} };

  constructor(private readonly options: StreamOptions) {}

  on(events: StreamEvents): void {
    this.events = events;
  }

  get transport(): 'tcp' | 'tls' {
    return this.options.transport;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.all.size;
  }

  async start(): Promise<number> {
    const o = this.options;
    const onSocket = (socket: Socket) => this.adopt(socket, socket.remoteAddress ?? '', socket.remotePort ?? 0);
    let server: Server;
    if (o.transport === 'tls') {
      if (!o.tls) throw new Error('TLS transport needs a certificate and key');
      server = createTlsServer({ cert: o.tls.cert, key: o.tls.key }, onSocket);
    } else server = createServer(onSocket);
    server.maxConnections = o.maxConnections ?? 10_000;
    server.on('error', (err) => o.logger.error({ err, transport: o.transport }, 'sip: listener error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, unbracket(o.host), () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : o.port;
  }

  private adopt(socket: Socket, host: string, port: number): Connection {
    const o = this.options;
    const conn = new Connection(this.nextId++, o.transport, normalizeHost(host), port, socket, o.limits, o.maxWriteBuffer ?? 4 * 1024 * 1024);
    const key = `${conn.remoteHost}:${port}`;
    this.conns.set(key, conn);
    this.all.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      for (const item of conn.framer.push(chunk)) {
        if (item.type === 'message') this.events.message(item.data, conn);
        else if (item.type === 'ping') conn.write(CRLF); // RFC 5626 3.5.1: CRLFCRLF -> CRLF
        else {
          this.events.framingError(item.error, conn, item.head);
          conn.close();
          return;
        }
      }
    });
    const gone = () => {
      conn.closed = true;
      this.all.delete(conn);
      if (this.conns.get(key) === conn) this.conns.delete(key);
    };
    socket.on('close', gone);
    socket.on('error', (err) => {
      o.logger.debug({ err, peer: key }, 'sip: connection error');
      gone();
    });
    return conn;
  }

  /** An open connection to `host:port`, or undefined. */
  find(host: string, port: number): SipConnection | undefined {
    const c = this.conns.get(`${normalizeHost(host)}:${port}`);
    return c && !c.closed ? c : undefined;
  }

  /**
   * An open connection to the peer, reusing one when present (RFC 3261 18.1.1), else a new
   * outbound one. `onError` is called if the connection cannot be made.
   */
  connect(host: string, port: number, onError: (err: Error) => void): SipConnection {
    const existing = this.find(host, port);
    if (existing) return existing;
    const o = this.options;
    const target = unbracket(host);
    const socket: Socket =
      o.transport === 'tls'
        ? tlsConnect({ host: target, port, ca: o.tls?.ca, rejectUnauthorized: o.tls?.rejectUnauthorized ?? true, servername: /^[\d.:]+$/.test(target) ? undefined : target })
        : netConnect({ host: target, port });
    socket.once('error', onError);
    socket.once(o.transport === 'tls' ? 'secureConnect' : 'connect', () => socket.off('error', onError));
    return this.adopt(socket, target, port);
  }

  async close(): Promise<void> {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.conns.clear();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`; brackets removed; lower-case. */
export function normalizeHost(host: string): string {
  const h = unbracket(host).toLowerCase();
  return h.startsWith('::ffff:') && h.includes('.') ? h.slice(7) : h;
}
