/**
 * SIP over UDP (RFC 3261 18): one datagram is one message. This file only moves bytes; the
 * stack parses, answers and drops. Over-size datagrams never reach the parser: they are
 * dropped with a log line (there is no connection to answer 413 on, RFC 3261 18.1.1).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from 'pino';

/** Options of the UDP listener. */
export interface UdpOptions {
  /** Address to bind, e.g. `127.0.0.1` or `::1`. */
  readonly host: string;
  /** Port; 0 picks a free one. */
  readonly port: number;
  /** Largest datagram accepted, in bytes (default 65535). */
  readonly maxDatagramBytes?: number;
  readonly logger: Logger;
}

/** A bound UDP socket delivering datagrams. */
export class UdpTransport {
  private socket: Socket | undefined;
  private handler: (data: Buffer, host: string, port: number) => void = () => {};

  constructor(private readonly options: UdpOptions) {}

  /** Called for each datagram within the size limit. */
  onMessage(handler: (data: Buffer, host: string, port: number) => void): void {
    this.handler = handler;
  }

  /** Binds; resolves with the bound port. */
  async start(): Promise<number> {
    const host = unbracket(this.options.host);
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
    this.socket = socket;
    const max = this.options.maxDatagramBytes ?? 65535;
    socket.on('message', (data, rinfo) => {
      if (data.length > max) {
        this.options.logger.warn({ from: `${rinfo.address}:${rinfo.port}`, bytes: data.length, max }, 'sip: dropped over-size UDP datagram');
        return;
      }
      this.handler(data, rinfo.address, rinfo.port);
    });
    socket.on('error', (err) => this.options.logger.error({ err }, 'sip: UDP socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.options.port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    try {
      // Bursts of requests (benchmarks, registration storms) need more than the default buffer.
      socket.setRecvBufferSize(4 * 1024 * 1024);
      socket.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      // Not fatal: the kernel may cap the size.
    }
    return socket.address().port;
  }

  /** Sends one datagram; errors are logged, never thrown (UDP is best effort). */
  send(data: Buffer, host: string, port: number): void {
    const s = this.socket;
    if (!s) return;
    s.send(data, port, unbracket(host), (err) => {
      if (err) this.options.logger.warn({ err, to: `${host}:${port}` }, 'sip: UDP send failed');
    });
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** `[::1]` -> `::1`; other hosts unchanged. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
