import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

/** TLS material for msrps (RFC 4975 section 14.2: TLS is the MSRP transport security). */
export interface MsrpTlsOptions {
  /** PEM certificate chain and key; when present the listener speaks TLS. */
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** Trusted CAs for outbound connections (default: Node's bundle). */
  readonly ca?: string | Buffer | Array<string | Buffer>;
  /** Verify peers' certificates on outbound connections. Default true. */
  readonly rejectUnauthorized?: boolean;
}

/** A bound listener. */
export interface MsrpListener {
  readonly server: Server;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Listens for MSRP connections where Parley is passive (RFC 6135). Default address
 * 127.0.0.1:2855 (the MSRP port, RFC 4975 section 15.5); port 0 picks a free port.
 */
export function listenMsrp(
  opts: { host?: string; port?: number; tls?: MsrpTlsOptions },
  onSocket: (socket: Socket) => void,
): Promise<MsrpListener> {
  const server: Server =
    opts.tls !== undefined
      ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onSocket)
      : createServer(onSocket);
  const host = opts.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 2855, host, () => {
      server.off('error', reject);
      const a = server.address();
      const port = typeof a === 'object' && a !== null ? a.port : (opts.port ?? 2855);
      resolve({
        server,
        host,
        port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
