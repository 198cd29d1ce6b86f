/**
 * SIP over UDP (RFC 3261 18): one datagram is one message. This file only moves bytes; the
 * stack parses, answers and drops. Over-size datagrams never reach the parser: they are
 * dropped with a log line (there is no connection to answer 413 on, RFC 3261 18.1.1).
 *
 * Overload: when requests arrive faster than Parley answers them, the socket's receive buffer
 * fills and the kernel drops datagrams; the client retransmits (RFC 3261 17.1.2.2) and the
 * request is served late or the client gives up (408). That is UDP's way to shed load and
 * costs Parley nothing, but it is invisible from user space, so on Linux this transport reads
 * the socket's drop counter (`/proc/net/udp`, matched by the bound address) every 5 s,
 * exposes it as `kernelDrops` and logs a warning with the count whenever it grew.
 */
import { readFile } from 'node:fs/promises';
import { createSocket, type Socket } from 'node:dgram';
import { endianness } from 'node:os';
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
  private dropTimer: NodeJS.Timeout | undefined;
  private procKey: string | undefined;
  private procFile: string | undefined;
  /** Datagrams the kernel dropped on this socket (receive buffer full); undefined when unknown. */
  kernelDrops: number | undefined;

  constructor(private readonly options: UdpOptions) {}

  /** One callback for every send (not a closure per datagram); dgram puts the address on `err`. */
  private readonly afterSend = (err: Error | null): void => {
    if (!err) return;
    const e = err as Error & { address?: string; port?: number };
    this.options.logger.warn({ err, to: e.address === undefined ? undefined : `${e.address}:${e.port}` }, 'sip: UDP send failed');
  };

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
    await this.watchDrops(socket);
    return socket.address().port;
  }

  /** Linux only: polls the drop counter of the line of /proc/net/udp[6] for this socket's address. */
  private async watchDrops(socket: Socket): Promise<void> {
    if (process.platform !== 'linux') return;
    const addr = socket.address();
    const v6 = addr.family === 'IPv6';
    this.procKey = `${procAddress(addr.address, v6)}:${addr.port.toString(16).toUpperCase().padStart(4, '0')}`;
    this.procFile = v6 ? '/proc/net/udp6' : '/proc/net/udp';
    await this.checkDrops();
    this.dropTimer = setInterval(() => void this.checkDrops(), 5000);
    this.dropTimer.unref();
  }

  /** Reads the kernel's drop counter now (Linux); logs when it grew since the last reading. */
  async checkDrops(): Promise<void> {
    if (!this.procFile || !this.procKey) return;
    let text: string;
    try {
      text = await readFile(this.procFile, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      const cols = line.trim().split(/\s+/);
      if (cols[1] !== this.procKey) continue;
      const drops = Number(cols[cols.length - 1]);
      if (!Number.isFinite(drops)) return;
      const before = this.kernelDrops;
      this.kernelDrops = drops;
      if (before !== undefined && drops > before) {
        this.options.logger.warn(
          { dropped: drops - before, total: drops },
          'sip: the kernel dropped UDP datagrams, receive buffer full (requests arrive faster than they are answered; clients retransmit)',
        );
      }
      return;
    }
  }

  /** Sends one datagram; errors are logged, never thrown (UDP is best effort). */
  send(data: Buffer, host: string, port: number): void {
    const s = this.socket;
    if (!s) return;
    s.send(data, port, unbracket(host), this.afterSend);
  }

  async close(): Promise<void> {
    if (this.dropTimer) clearInterval(this.dropTimer);
    this.procFile = undefined;
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** `[::1]` -> `::1`; other hosts unchanged. */
export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * An address as /proc/net/udp[6] prints it: the raw bytes as 32-bit words in host order, in
 * hex (127.0.0.1 is `0100007F` on little-endian machines).
 */
export function procAddress(address: string, v6: boolean): string {
  const bytes: number[] = [];
  if (!v6) bytes.push(...address.split('.').map(Number));
  else {
    // An embedded IPv4 tail (`::ffff:192.0.2.1`) is two 16-bit groups.
    const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
    if (v4) {
      const [a, b, c, d] = v4.slice(1).map(Number);
      address = address.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
    }
    const [head, tail = ''] = address.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = address.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    for (const g of groups) {
      const n = parseInt(g || '0', 16);
      bytes.push(n >> 8, n & 255);
    }
  }
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    if (endianness() === 'LE') word.reverse();
    out += word.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
  return out;
}
