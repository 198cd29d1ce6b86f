/**
 * The embedded SIP stack: UDP + TCP (+ TLS) listeners, the transaction layer, RFC 3581
 * response routing, the request checks of `methods.ts`, trusted peers, CANCEL and the UAS 2xx
 * retransmission. It implements `SipTransport`; dialogs stay with the application.
 *
 * In-dialog requests: delivered with their `dialogId`. When `dialogExists` is given, a request
 * whose dialog it does not know is answered 481 here (RFC 3261 12.2.2); otherwise the
 * application answers 481 itself.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import type { SipHeader, SipMessage, SipRequest, SipResponse, Via } from './message.js';
import type { AckTimeout, IncomingRequest, OutgoingRequest, SendRequestOptions, SipEndpoint, SipTransport, SipTransportProtocol } from './transport.js';
import { buildInDialogRequest, type DialogId, type DialogState } from './dialog.js';
import { parseMessage, parseMessageDetailed, type MessageInfo } from './parser.js';
import { buildResponse, serializeMessage } from './serializer.js';
import { getHeader, withHeader } from './headers.js';
import { formatVia, parseCSeq, parseNameAddr, parseVia } from './nameAddr.js';
import { defaultSipLimits, type SipLimits } from './limits.js';
import { UdpTransport } from './udp.js';
import { StreamTransport, type SipConnection } from './tcp.js';
import { isTrusted, parseTrustList, type TrustList } from './trust.js';
import { checkRequest, defaultMethodPolicy, optionsHeaders, type MethodPolicy } from './methods.js';
import { requestDestination, responseDestination, stampVia } from './destination.js';
import { ServerRequest, toTagOf } from './serverRequest.js';
import { defaultSipTimers, timeout64, timerJ, validateTimers, type SipTimerConfig } from './transaction/timers.js';
import type { TransactionEnv } from './transaction/env.js';
import { clientKey, legacyServerKey, serverKey, TransactionTable } from './transaction/table.js';
import { newBranch, newCallId, newTag } from './transaction/branch.js';
import { ClientNonInviteTransaction } from './transaction/clientNonInvite.js';
import { ClientInviteTransaction } from './transaction/clientInvite.js';
import { ServerInviteTransaction } from './transaction/serverInvite.js';
import { ServerNonInviteTransaction } from './transaction/serverNonInvite.js';
import { AckWait } from './transaction/ackWait.js';
import { flattenInPlace } from '../../strings.js';

/** Configuration of the embedded stack. */
export interface SipStackOptions {
  /** Address to bind (`127.0.0.1`, `0.0.0.0`, `::1`). */
  readonly host: string;
  /** UDP and TCP port; 0 picks one free port for both. Default 5060. */
  readonly port?: number;
  /** Host written in Via and Contact; default `host`. */
  readonly advertisedHost?: string;
  /** Disable a transport (both on by default). */
  readonly udp?: boolean;
  readonly tcp?: boolean;
  /** TLS listener (RFC 3261 26.2), enabled when given. Port 0 picks one; default 5061. */
  readonly tls?: { readonly port?: number; readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca?: string | Buffer; readonly rejectUnauthorized?: boolean };
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly timers?: Partial<SipTimerConfig>;
  readonly limits?: SipLimits;
  /** Addresses and CIDR networks; when non-empty, requests from elsewhere get 403. */
  readonly trustedPeers?: readonly string[];
  readonly methods?: Partial<MethodPolicy>;
  /** Answer out-of-dialog OPTIONS here (default true); false delivers them to the application. */
  readonly answerOptions?: boolean;
  /** Optional: in-dialog requests for a dialog it denies get 481 before delivery. */
  readonly dialogExists?: (id: DialogId) => boolean;
  /** Optional: handles REGISTER (the embedded registrar). */
  readonly registrar?: { handle(request: IncomingRequest): void };
  /**
   * Most live server transactions, and separately most live client transactions. A new
   * request that finds the server table full is answered 503 with Retry-After (statelessly);
   * live transactions are never evicted to make room. Default `DEFAULT_MAX_TRANSACTIONS`
   * (500,000), sized for sustained load: see there.
   */
  readonly maxTransactions?: number;
}

/**
 * Default `maxTransactions`: 500,000.
 *
 * Over UDP a non-INVITE server transaction stays in Completed for timer J = 64*T1 = 32 s after
 * its final response (RFC 3261 17.2.2) to absorb retransmissions, so at a sustained R new
 * requests/s the table holds about 32*R entries: 320,000 at 10,000/s, which is why the former
 * default of 300,000 started answering 503 after half a minute at 10k/s. When this default was
 * chosen one core answered about 10-12k MESSAGE/s, so the CPU bounded the table at about
 * 32 * 12k = 384k entries. Since the hot-path work of 2026-12-01 one core answers about 17-24k
 * MESSAGE/s over UDP (40-60 µs per 200, bench/sip-message.ts), so a sustained rate above
 * 500,000 / 32 = 15.6k/s now fills the table and is answered 503 (below: served) — the table,
 * not the CPU, is the bound there, by choice: it bounds memory. A Completed entry is kept as
 * the serialized response and its destination, about 0.9 KiB of heap (measured by the benchmark
 * with --expose-gc), so a full table is about 430 MiB. Over TCP/TLS timer J is zero and the
 * table holds only requests not yet answered.
 *
 * When the table is full a new request is answered 503 with Retry-After: 5, statelessly, and
 * counted (`stats.rejectedFull`, one warning per 5 s); live transactions are never evicted.
 */
export const DEFAULT_MAX_TRANSACTIONS = 500_000;

type ServerTx = ServerInviteTransaction | ServerNonInviteTransaction;
type ClientTx = ClientInviteTransaction | ClientNonInviteTransaction;
/** What a `ServerEntry` needs from the stack (one object per stack, not closures per request). */
interface ServerEntryHost {
  sendResponse(res: SipResponse, source: SipEndpoint, conn: SipConnection | undefined, udpDest: { host: string; port: number }): { data: Buffer; host: string; port: number } | undefined;
  terminated(entry: ServerEntry): void;
  finalSent(entry: ServerEntry, res: SipResponse): void;
  ackTimeout(entry: ServerEntry): void;
}

/**
 * A live server transaction in the table. It is also the transaction's environment and user
 * (send, onTerminated...) and the request's final-response listener: methods on one object
 * instead of an env object and four closures per request.
 */
class ServerEntry implements TransactionEnv {
  tx!: ServerTx;
  incoming: ServerRequest | undefined = undefined;
  /** The last response sent over UDP and where it went (kept when the transaction completes). */
  sent: { data: Buffer; host: string; port: number } | undefined = undefined;
  /** Non-INVITE: the stack ends Completed itself (completeNonInvite), no timer J to arm and clear. */
  readonly endsCompleted: boolean;

  constructor(
    private readonly host: ServerEntryHost,
    readonly clock: Clock,
    readonly timers: SipTimerConfig,
    readonly reliable: boolean,
    readonly key: string,
    readonly request: SipRequest,
    readonly source: SipEndpoint,
    readonly conn: SipConnection | undefined,
    /** Where responses go over UDP: every one carries the same (stamped) top Via (18.2.2). */
    readonly dest: { host: string; port: number },
  ) {
    this.endsCompleted = request.method !== 'INVITE';
  }

  send(message: SipMessage): void {
    this.sent = this.host.sendResponse(message as SipResponse, this.source, this.conn, this.dest);
  }

  onTerminated(): void {
    this.host.terminated(this);
  }

  onAckTimeout(): void {
    this.host.ackTimeout(this);
  }

  finalSent(response: SipResponse): void {
    this.host.finalSent(this, response);
  }
}

/**
 * A non-INVITE server transaction in Completed over UDP (17.2.2), reduced to what it still
 * does: answer a retransmitted request with the same final response until timer J. Expired by
 * a FIFO queue (timer J is the same for every entry), not by a timer each.
 */
interface CompletedSlot {
  readonly key: string;
  readonly completed: Buffer;
  readonly host: string;
  readonly port: number;
  readonly due: number;
}
type ServerSlot = ServerEntry | CompletedSlot;

const MAX_SIDE_TABLE = 100_000;

/** Creates and starts the stack; resolves once every listener is bound. */
export async function createSipStack(options: SipStackOptions): Promise<SipStack> {
  const stack = new SipStack(options);
  await stack.start();
  return stack;
}

/** The embedded implementation of `SipTransport`. */
export class SipStack implements SipTransport {
  readonly ports: { udp?: number; tcp?: number; tls?: number } = {};
  private readonly clock: Clock;
  private readonly timers: SipTimerConfig;
  private readonly limits: SipLimits;
  private readonly log: Logger;
  private readonly trust: TrustList;
  private readonly policy: MethodPolicy;
  private readonly advertised: string;
  private udp: UdpTransport | undefined;
  private tcp: StreamTransport | undefined;
  private tls: StreamTransport | undefined;
  private readonly server: TransactionTable<ServerSlot>;
  private readonly completedQueue: (CompletedSlot | undefined)[] = [];
  private completedHead = 0;
  private completedTimer: TimerHandle | undefined;
  private rejectedFull = 0;
  private fullLog = { at: 0, count: 0 };
  private readonly client: TransactionTable<ClientTx>;
  private readonly ackWaits = new Map<string, { wait: AckWait }>();
  private readonly sentAcks = new Map<string, { ack: SipRequest; dest: SipEndpoint }>();
  private readonly flows = new Map<string, SipConnection>();
  private requestHandler: ((r: IncomingRequest) => void) | undefined;
  private cancelHandler: ((r: IncomingRequest) => void) | undefined;
  private ackTimeoutHandler: ((e: AckTimeout) => void) | undefined;
  private closed = false;
  private readonly contacts = new Map<SipTransportProtocol, string>();
  private readonly entryHost: ServerEntryHost = {
    sendResponse: (res, source, conn, dest) => this.sendResponse(res, source, conn, dest),
    terminated: (entry) => this.server.delete(entry.key, entry),
    finalSent: (entry, res) => {
      const incoming = entry.incoming;
      entry.incoming = undefined; // keep only what retransmissions need
      if (entry.request.method === 'INVITE' && res.status >= 200 && res.status < 300) {
        if (incoming) this.startAckWait(entry.request, res, incoming, entry.tx);
      } else if (entry.tx instanceof ServerNonInviteTransaction) this.completeNonInvite(entry);
    },
    ackTimeout: (entry) => this.log.info({ callId: getHeader(entry.request, 'call-id') }, 'sip: no ACK for a non-2xx final response (timer H)'),
  };

  constructor(private readonly options: SipStackOptions) {
    this.clock = options.clock ?? systemClock();
    this.timers = { ...defaultSipTimers, ...options.timers };
    const bad = validateTimers(this.timers);
    if (bad) throw new Error(`sip: ${bad}`);
    this.limits = options.limits ?? defaultSipLimits;
    this.log = options.logger.child({ component: 'sip' });
    this.trust = parseTrustList(options.trustedPeers ?? []);
    this.policy = { ...defaultMethodPolicy, ...options.methods };
    this.advertised = options.advertisedHost ?? options.host;
    const max = options.maxTransactions ?? DEFAULT_MAX_TRANSACTIONS;
    if (!(max >= 1)) throw new Error('sip: maxTransactions must be >= 1');
    this.server = new TransactionTable(max);
    this.client = new TransactionTable(max);
  }

  // ---- start / stop -------------------------------------------------------------------

  async start(): Promise<void> {
    const o = this.options;
    const want = o.port ?? 5060;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.bindUdpTcp(want);
        break;
      } catch (err) {
        await this.udp?.close();
        await this.tcp?.close();
        this.udp = this.tcp = undefined;
        // Port 0: UDP got a free port that TCP may not have free; try another.
        if (want !== 0 || attempt >= 10) throw err;
      }
    }
    if (o.tls) {
      this.tls = new StreamTransport({ transport: 'tls', host: o.host, port: o.tls.port ?? 5061, limits: this.limits, logger: this.log, tls: o.tls });
      this.tls.on(this.streamEvents());
      this.ports.tls = await this.tls.start();
    }
    this.contacts.clear(); // in case a request came in on a socket of a failed bind attempt
    this.log.info({ host: o.host, ports: this.ports }, 'sip: listening');
  }

  private async bindUdpTcp(want: number): Promise<void> {
    const o = this.options;
    let port = want;
    if (o.udp !== false) {
      this.udp = new UdpTransport({ host: o.host, port, logger: this.log, maxDatagramBytes: this.limits.maxMessageBytes + this.limits.maxBodyBytes });
      this.udp.onMessage((data, host, p) => this.receive(data, { host, port: p, transport: 'udp' }, undefined));
      port = this.ports.udp = await this.udp.start();
    }
    if (o.tcp !== false) {
      this.tcp = new StreamTransport({ transport: 'tcp', host: o.host, port, limits: this.limits, logger: this.log });
      this.tcp.on(this.streamEvents());
      this.ports.tcp = await this.tcp.start();
    }
  }

  private streamEvents() {
    return {
      message: (data: Buffer, conn: SipConnection) =>
        this.receive(data, { host: conn.remoteHost, port: conn.remotePort, transport: conn.transport }, conn),
      framingError: (error: ProtocolError, conn: SipConnection, head?: Buffer) => this.onFramingError(error, conn, head),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.completedTimer) this.clock.clearTimeout(this.completedTimer);
    this.completedQueue.length = 0;
    for (const e of this.server.values()) if ('tx' in e) e.tx.terminate();
    for (const tx of this.client.values()) tx.terminate();
    for (const w of this.ackWaits.values()) w.wait.stop();
    this.server.clear();
    this.client.clear();
    this.ackWaits.clear();
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.tls?.close()]);
  }

  // ---- SipTransport -------------------------------------------------------------------

  onRequest(handler: (r: IncomingRequest) => void): void {
    this.requestHandler = handler;
  }
  onCancel(handler: (r: IncomingRequest) => void): void {
    this.cancelHandler = handler;
  }
  onAckTimeout(handler: (e: AckTimeout) => void): void {
    this.ackTimeoutHandler = handler;
  }

  /** `contactUri(transport)`, computed once per transport (the ports do not change once bound). */
  private contactFor(transport: SipTransportProtocol): string {
    let c = this.contacts.get(transport);
    if (c === undefined) {
      c = this.contactUri(transport);
      this.contacts.set(transport, c);
    }
    return c;
  }

  contactUri(transport: SipTransportProtocol = 'udp'): string {
    const host = this.advertised.includes(':') && !this.advertised.startsWith('[') ? `[${this.advertised}]` : this.advertised;
    if (transport === 'tls') return `sips:${host}:${this.ports.tls ?? 5061}`;
    if (transport === 'tcp') return `sip:${host}:${this.ports.tcp ?? 5060};transport=tcp`;
    return `sip:${host}:${this.ports.udp ?? this.ports.tcp ?? 5060}`;
  }

  /**
   * Live transaction counts and overload counters (for tests and metrics): `server` counts
   * Completed entries too; `rejectedFull` counts the 503s answered because the server table was
   * full; `udpDrops` the datagrams the kernel dropped on the UDP socket because its receive
   * buffer was full (Linux; undefined elsewhere or before the first check, every 5 s).
   */
  get stats(): {
    server: number;
    client: number;
    ackWaits: number;
    tcpConnections: number;
    tlsConnections: number;
    rejectedFull: number;
    udpDrops: number | undefined;
  } {
    return {
      rejectedFull: this.rejectedFull,
      udpDrops: this.udp?.kernelDrops,
      server: this.server.size,
      client: this.client.size,
      ackWaits: this.ackWaits.size,
      tcpConnections: this.tcp?.connectionCount ?? 0,
      tlsConnections: this.tls?.connectionCount ?? 0,
    };
  }

  // ---- inbound ------------------------------------------------------------------------

  private receive(data: Buffer, source: SipEndpoint, conn: SipConnection | undefined): void {
    if (this.closed) return;
    try {
      const r = parseMessageDetailed(data, this.limits);
      if (!r.ok) {
        this.onParseError(r.error, r.partial, source, conn);
        return;
      }
      if (r.message.kind === 'response') this.onResponse(r.message, r.info);
      else this.onRequestMessage(r.message, r.info, source, conn);
    } catch (err) {
      // A bug, not bad input: log it once and keep the process alive.
      this.log.error({ err, from: `${source.host}:${source.port}` }, 'sip: internal error handling a message');
    }
  }

  private onParseError(
    error: ProtocolError,
    partial: { kind: 'request' | 'response'; method?: string; uri?: string; headers: SipHeader[] } | undefined,
    source: SipEndpoint,
    conn: SipConnection | undefined,
  ): void {
    const where = { from: `${source.host}:${source.port}`, transport: source.transport, code: error.code };
    if (error.status === 0 || !partial || partial.kind !== 'request' || partial.method === 'ACK') {
      this.log.info({ ...where, reason: error.message }, 'sip: dropped unparseable message');
      return;
    }
    if (error.status === 413 && !conn) {
      this.log.warn(where, 'sip: dropped over-size UDP request');
      return;
    }
    this.statelessReply(partial, error.status, error.message, source, conn);
    if (error.status === 413 && conn) conn.close();
  }

  /** Replies without a transaction (parse errors, 403, 503): Via stamped as usual. */
  private statelessReply(
    req: { method?: string; uri?: string; headers: readonly SipHeader[] },
    status: number,
    reason: string | undefined,
    source: SipEndpoint,
    conn: SipConnection | undefined,
    extra: SipHeader[] = [],
  ): void {
    const top = getHeader(req, 'via');
    const via = top ? parseVia(top) : undefined;
    if (!via) {
      this.log.info({ from: `${source.host}:${source.port}`, status }, 'sip: cannot answer a request without a usable Via');
      return;
    }
    const stamped = stampVia(via, source.host, source.port);
    const request: SipRequest = {
      kind: 'request',
      method: req.method ?? 'UNKNOWN',
      uri: req.uri ?? '',
      headers: withTopVia(req.headers, formatVia(stamped)),
      body: Buffer.alloc(0),
    };
    const safeReason = reason?.replace(/[\r\n]+/g, ' ').slice(0, 200);
    let res: SipResponse;
    try {
      res = buildResponse(request, status, safeReason, { headers: extra, toTag: toTagOf(request) ? undefined : newTag() });
    } catch (err) {
      this.log.info({ err, status }, 'sip: cannot build a stateless response');
      return;
    }
    this.sendResponse(res, source, conn);
  }

  private onFramingError(error: ProtocolError, conn: SipConnection, head: Buffer | undefined): void {
    const source: SipEndpoint = { host: conn.remoteHost, port: conn.remotePort, transport: conn.transport };
    this.log.warn({ from: `${source.host}:${source.port}`, code: error.code, status: error.status }, 'sip: stream framing error, closing');
    if (error.status === 0 || !head) return;
    const r = parseMessage(head, { ...this.limits, maxBodyBytes: Number.MAX_SAFE_INTEGER });
    const headers = r.ok ? r.message.headers : r.partial?.headers;
    const kind = r.ok ? r.message.kind : r.partial?.kind;
    if (!headers || kind !== 'request') return;
    const method = r.ok && r.message.kind === 'request' ? r.message.method : r.ok ? undefined : r.partial?.method;
    if (method === 'ACK') return;
    this.statelessReply({ method, headers }, error.status, error.message, source, conn);
  }

  /** `info`: the top Via, From, To, Call-ID and CSeq the parser already parsed (not parsed again). */
  private onRequestMessage(raw: SipRequest, info: MessageInfo, source: SipEndpoint, conn: SipConnection | undefined): void {
    const parsedVia = info.topVia;
    const via = stampVia(parsedVia, source.host, source.port);
    const req: SipRequest =
      via === parsedVia ? raw : { kind: 'request', method: raw.method, uri: raw.uri, headers: withTopVia(raw.headers, formatVia(via)), body: raw.body };

    if (!isTrusted(this.trust, source.host)) {
      this.log.info({ from: source.host, method: req.method }, 'sip: request from an untrusted peer refused');
      if (req.method !== 'ACK') this.statelessReply(req, 403, 'Forbidden', source, conn);
      return;
    }
    if (conn) this.rememberFlow(info.callId, conn);

    const key = serverKey(via, req.method) ?? legacyServerKey(info.topViaValue, info.callId, info.cseq.seq, req.method);
    if (req.method === 'ACK') {
      this.onAck(req, info, key, source, conn);
      return;
    }
    const existing = this.server.get(key);
    if (existing) {
      // A retransmission (17.2.1, 17.2.2): absorbed, the last response sent again.
      if ('tx' in existing) existing.tx.receiveRequest();
      else this.udp?.send(existing.completed, existing.host, existing.port);
      return;
    }
    const reliable = conn !== undefined;
    const entry = new ServerEntry(this.entryHost, this.clock, this.timers, reliable, key, req, source, conn, responseDestination(via));
    entry.tx = req.method === 'INVITE' ? new ServerInviteTransaction(entry, req, entry) : new ServerNonInviteTransaction(entry, req, entry);
    if (!this.server.add(key, entry)) {
      // Full: refuse the newcomer, never evict a live transaction. One log line per 5 s.
      this.rejectedFull++;
      this.fullLog.count++;
      const now = this.clock.now();
      if (now - this.fullLog.at >= 5000) {
        this.log.warn({ size: this.server.size, refused: this.fullLog.count, refusedTotal: this.rejectedFull }, 'sip: transaction table full, answering 503');
        this.fullLog = { at: now, count: 0 };
      }
      this.statelessReply(req, 503, 'Service Unavailable', source, conn, [{ name: 'retry-after', value: '5' }]);
      return;
    }
    const dialogId = dialogIdOfInfo(info);
    const incoming = new ServerRequest(req, source, dialogId, newTag(), entry.tx, this.contactFor(source.transport), this.log, info);
    entry.incoming = incoming;
    incoming.onFinal = entry;
    // 17.2.1: answer 100 at once rather than arming a 200 ms timer: cheaper and always in time.
    if (req.method === 'INVITE') incoming.respond(100);

    if (req.method === 'CANCEL') {
      this.onCancelRequest(req, via, incoming);
      return;
    }
    const rejection = checkRequest(req, this.policy);
    if (rejection) {
      incoming.respond(rejection.status, rejection.reason, { headers: rejection.headers });
      return;
    }
    if (req.method === 'OPTIONS' && !dialogId && this.options.answerOptions !== false) {
      incoming.respond(200, undefined, { headers: optionsHeaders(this.policy) });
      return;
    }
    if (dialogId && this.options.dialogExists && !this.options.dialogExists(dialogId)) {
      incoming.respond(481);
      return;
    }
    if (req.method === 'REGISTER' && this.options.registrar) {
      this.deliver(incoming, (r) => this.options.registrar!.handle(r));
      return;
    }
    this.deliver(incoming, this.requestHandler);
  }

  /**
   * A non-INVITE server transaction sent its final response. Over TCP/TLS timer J is zero: it
   * ends now. Over UDP it is replaced by a `CompletedSlot` (the response bytes and destination)
   * until timer J, so the 32 s of Completed at high rates cost a buffer, not a transaction.
   */
  private completeNonInvite(entry: ServerEntry): void {
    const { key, sent } = entry;
    if (entry.reliable || !sent || this.closed) {
      entry.tx.terminate();
      return;
    }
    // The key is built from slices of the request's text: flat, it no longer holds that text for timer J.
    flattenInPlace(key);
    const slot: CompletedSlot = { key, completed: sent.data, host: sent.host, port: sent.port, due: this.clock.now() + timerJ(this.timers, false) };
    this.server.replace(key, slot);
    entry.tx.terminate(); // its own timer J is cleared; the table entry is now `slot`
    this.completedQueue.push(slot);
    this.armCompletedExpiry();
  }

  private armCompletedExpiry(): void {
    if (this.completedTimer || this.closed) return;
    const head = this.completedQueue[this.completedHead];
    if (!head) return;
    // Expire in batches: up to 100 ms after the due time (timer J is a minimum).
    const slack = Math.min(100, timerJ(this.timers, false) / 10);
    this.completedTimer = this.clock.setTimeout(() => this.expireCompleted(), Math.max(0, head.due - this.clock.now()) + slack);
  }

  private expireCompleted(): void {
    this.completedTimer = undefined;
    const q = this.completedQueue;
    const now = this.clock.now();
    while (this.completedHead < q.length) {
      const slot = q[this.completedHead];
      if (slot && slot.due > now) break;
      q[this.completedHead++] = undefined;
      if (slot) this.server.delete(slot.key, slot);
    }
    if (this.completedHead === q.length) {
      q.length = 0;
      this.completedHead = 0;
    } else if (this.completedHead > 4096 && this.completedHead * 2 > q.length) {
      q.splice(0, this.completedHead);
      this.completedHead = 0;
    }
    this.armCompletedExpiry();
  }

  private deliver(incoming: ServerRequest, handler: ((r: IncomingRequest) => void) | undefined): void {
    if (!handler) {
      incoming.respond(500, 'Server Internal Error - no application');
      return;
    }
    try {
      handler(incoming);
    } catch (err) {
      this.log.error({ err, method: incoming.request.method }, 'sip: request handler threw, answering 500');
      incoming.respond(500);
    }
  }

  private onAck(req: SipRequest, info: MessageInfo, key: string, source: SipEndpoint, conn: SipConnection | undefined): void {
    const entry = this.server.get(key);
    if (entry && 'tx' in entry && entry.tx instanceof ServerInviteTransaction && entry.tx.state !== 'accepted') {
      entry.tx.receiveAck(); // ACK for a non-2xx: part of the INVITE transaction (17.2.1)
      return;
    }
    const t = info.to.params.tag;
    const toTag = typeof t === 'string' ? t : undefined;
    const cseq = info.cseq;
    if (!toTag) return;
    const ackKey = `${info.callId}\u0000${cseq.seq}\u0000${toTag}`;
    const wait = this.ackWaits.get(ackKey);
    if (wait) {
      wait.wait.stop();
      this.ackWaits.delete(ackKey);
    }
    const incoming = new ServerRequest(req, source, dialogIdOfInfo(info), toTag, { respond: () => false }, this.contactFor(source.transport), this.log, info);
    void conn;
    this.deliver(incoming, this.requestHandler);
  }

  private startAckWait(req: SipRequest, res: SipResponse, incoming: ServerRequest, tx: ServerTx): void {
    const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
    const callId = getHeader(req, 'call-id') ?? '';
    const toTag = toTagOf(res) ?? '';
    const ackKey = `${callId}\u0000${cseq?.seq ?? 0}\u0000${toTag}`;
    const dialogId: DialogId = { callId, localTag: toTag, remoteTag: incoming.dialogId?.remoteTag ?? fromTag(req) };
    const wait = new AckWait(
      this.clock,
      this.timers,
      res,
      // Through the transaction while it is Accepted, directly once it ended (timer L).
      (r) => (tx.state === 'accepted' ? (tx as ServerInviteTransaction).respond(r) : this.sendResponse(r, incoming.source, undefined)),
      () => {
        this.ackWaits.delete(ackKey);
        this.log.info({ callId }, 'sip: 2xx to INVITE never acknowledged');
        this.ackTimeoutHandler?.({ dialogId, request: req, response: res });
      },
    );
    this.ackWaits.get(ackKey)?.wait.stop();
    if (this.ackWaits.size >= MAX_SIDE_TABLE) return; // no retransmission beyond the bound
    this.ackWaits.set(ackKey, { wait });
    wait.start();
  }

  /** RFC 3261 9.2: 200 to the CANCEL, 487 to the INVITE if not yet answered. */
  private onCancelRequest(req: SipRequest, via: Via, incoming: ServerRequest): void {
    const key = serverKey(via, 'INVITE');
    const invite = key ? this.server.get(key) : undefined;
    if (!invite || !('tx' in invite) || !(invite.tx instanceof ServerInviteTransaction)) {
      incoming.respond(481);
      return;
    }
    incoming.respond(200);
    const inv = invite.incoming;
    if (inv && !inv.answered) {
      inv.cancelled = true;
      inv.respond(487);
      try {
        this.cancelHandler?.(inv);
      } catch (err) {
        this.log.error({ err }, 'sip: cancel handler threw');
      }
    }
  }

  // ---- responses out ------------------------------------------------------------------

  /**
   * RFC 3261 18.2.2: back on the connection when open, else per the (stamped) top Via.
   * Returns the bytes and destination of a UDP send (what a Completed transaction keeps).
   */
  private sendResponse(
    res: SipResponse,
    source: SipEndpoint,
    conn: SipConnection | undefined,
    udpDest?: { host: string; port: number },
  ): { data: Buffer; host: string; port: number } | undefined {
    const data = serializeMessage(res);
    if (conn && !conn.closed) {
      conn.write(data);
      return undefined;
    }
    if (source.transport === 'udp' && udpDest) {
      this.udp?.send(data, udpDest.host, udpDest.port);
      return { data, host: udpDest.host, port: udpDest.port };
    }
    const top = getHeader(res, 'via');
    const via = top ? parseVia(top) : undefined;
    if (!via) return undefined;
    const dest = responseDestination(via);
    if (source.transport === 'udp') {
      this.udp?.send(data, dest.host, dest.port);
      return { data, host: dest.host, port: dest.port };
    }
    // The connection is gone: open a new one to received / sent-by port (18.2.2).
    const stream = source.transport === 'tls' ? this.tls : this.tcp;
    const port = via.port ?? (source.transport === 'tls' ? 5061 : 5060);
    stream?.connect(dest.host, port, (err) => this.log.info({ err, to: `${dest.host}:${port}` }, 'sip: could not reconnect to send a response')).write(data);
    return undefined;
  }

  // ---- responses in -------------------------------------------------------------------

  private onResponse(res: SipResponse, info: MessageInfo): void {
    const cseq = info.cseq;
    const branch = info.topVia.params.branch;
    if (typeof branch !== 'string') return;
    const tx = this.client.get(clientKey(branch, cseq.method));
    if (tx) {
      tx.receive(res);
      return;
    }
    if (cseq.method === 'INVITE' && res.status >= 200 && res.status < 300) {
      // A 2xx retransmission after the transaction ended: re-send our ACK (13.2.2.4).
      const t = info.to.params.tag;
      const sent = this.sentAcks.get(`${info.callId}\u0000${cseq.seq}\u0000${typeof t === 'string' ? t : ''}`);
      if (sent) this.sendTo(sent.ack, sent.dest, undefined, () => {});
      return;
    }
    this.log.debug({ status: res.status, branch }, 'sip: stray response dropped');
  }

  // ---- requests out -------------------------------------------------------------------

  sendRequest(out: OutgoingRequest, options: SendRequestOptions = {}): Promise<SipResponse> {
    if (this.closed) return Promise.reject(new Error('sip stack closed'));
    const req = this.complete(out);
    const dest0 = options.destination ?? requestDestination(req);
    if (!dest0) return Promise.reject(new ProtocolError('SIP_NO_DESTINATION', 416, `no route to ${req.uri}`));
    const dest = this.chooseTransport(dest0, req);
    const branch = newBranch();
    const withVia: SipRequest = { ...req, headers: [{ name: 'via', value: this.viaValue(dest.transport, branch) }, ...req.headers] };
    const key = clientKey(branch, req.method);
    return new Promise<SipResponse>((resolve) => {
      let settled = false;
      let tx: ClientTx | undefined;
      const settle = (res: SipResponse) => {
        if (!settled) {
          settled = true;
          resolve(res);
        }
      };
      const conn = this.connectionFor(dest, req, options.dialog, () => tx?.transportError());
      const env: TransactionEnv = {
        clock: this.clock,
        timers: this.timers,
        reliable: dest.transport !== 'udp',
        send: (m) => this.sendTo(m, dest, conn, () => tx?.transportError()),
      };
      let cancelPending = false;
      let cancelled = false;
      const sendCancel = () => {
        cancelled = true;
        this.sendCancel(withVia, dest, conn);
        // 9.1: without a final response 64*T1 after the CANCEL, give up.
        this.clock.setTimeout(() => {
          if (!settled) {
            tx?.terminate();
            settle(this.synthesize(withVia, 408));
          }
        }, timeout64(this.timers));
      };
      const user = {
        onResponse: (res: SipResponse) => {
          if (res.status < 200) {
            if (cancelPending && !cancelled) sendCancel();
            try {
              options.onProvisional?.(res);
            } catch (err) {
              this.log.error({ err }, 'sip: onProvisional threw');
            }
            return;
          }
          if (settled && req.method === 'INVITE' && res.status < 300) {
            const sent = this.sentAcks.get(`${getHeader(res, 'call-id')}\u0000${parseCSeq(getHeader(res, 'cseq') ?? '')?.seq}\u0000${toTagOf(res) ?? ''}`);
            if (sent) this.sendTo(sent.ack, sent.dest, undefined, () => {});
            return;
          }
          settle(res);
        },
        onTimeout: (kind: 'timeout' | 'transport') => settle(this.synthesize(withVia, kind === 'timeout' ? 408 : 503)),
        onTerminated: () => this.client.delete(key, tx),
      };
      tx = req.method === 'INVITE' ? new ClientInviteTransaction(env, withVia, user) : new ClientNonInviteTransaction(env, withVia, user);
      if (!this.client.add(key, tx)) {
        settle(this.synthesize(withVia, 503));
        return;
      }
      if (options.signal && req.method === 'INVITE') {
        const onAbort = () => {
          if (settled || cancelled) return;
          // 9.1: CANCEL only once a provisional response arrived.
          if (tx?.state === 'proceeding') sendCancel();
          else cancelPending = true;
        };
        if (options.signal.aborted) onAbort();
        else options.signal.addEventListener('abort', onAbort, { once: true });
      }
      tx.start();
    });
  }

  /** RFC 3261 9.1: same Request-URI, Call-ID, From, To, CSeq number, top Via and Route. */
  private sendCancel(invite: SipRequest, dest: SipEndpoint, conn: SipConnection | undefined): void {
    const keep = new Set(['via', 'route', 'from', 'to', 'call-id', 'max-forwards']);
    const headers: SipHeader[] = [];
    let viaSeen = false;
    for (const h of invite.headers) {
      if (!keep.has(h.name)) continue;
      if (h.name === 'via') {
        if (viaSeen) continue;
        viaSeen = true;
      }
      headers.push(h);
    }
    const seq = parseCSeq(getHeader(invite, 'cseq') ?? '')?.seq ?? 1;
    headers.push({ name: 'cseq', value: `${seq} CANCEL` });
    const cancel: SipRequest = { kind: 'request', method: 'CANCEL', uri: invite.uri, headers, body: Buffer.alloc(0) };
    const branch = parseVia(getHeader(invite, 'via') ?? '')?.params.branch ?? newBranch();
    const key = clientKey(String(branch), 'CANCEL');
    let tx: ClientNonInviteTransaction | undefined;
    const env: TransactionEnv = {
      clock: this.clock,
      timers: this.timers,
      reliable: dest.transport !== 'udp',
      send: (m) => this.sendTo(m, dest, conn, () => tx?.transportError()),
    };
    tx = new ClientNonInviteTransaction(env, cancel, { onResponse() {}, onTimeout() {}, onTerminated: () => this.client.delete(key, tx) });
    if (this.client.add(key, tx)) tx.start();
  }

  sendAck(dialog: DialogState, response: SipResponse, options: { headers?: readonly SipHeader[]; body?: Buffer | string } = {}): void {
    const cseq = parseCSeq(getHeader(response, 'cseq') ?? '');
    const { request } = buildInDialogRequest(dialog, 'ACK', { cseq: cseq?.seq ?? dialog.localCSeq, headers: options.headers, body: options.body });
    const dest0 = requestDestination(request);
    if (!dest0) {
      this.log.warn({ uri: request.uri }, 'sip: no destination for ACK');
      return;
    }
    const dest = this.chooseTransport(dest0, request);
    const ack: SipRequest = { ...request, headers: [{ name: 'via', value: this.viaValue(dest.transport, newBranch()) }, ...request.headers] };
    const conn = this.connectionFor(dest, ack, dialog, () => {});
    this.sendTo(ack, dest, conn, (err) => this.log.info({ err }, 'sip: ACK not sent'));
    // Keep it to answer 2xx retransmissions for 64*T1 (13.2.2.4).
    const key = `${dialog.callId}\u0000${cseq?.seq ?? 0}\u0000${dialog.remoteTag}`;
    if (this.sentAcks.size < MAX_SIDE_TABLE) {
      this.sentAcks.set(key, { ack, dest });
      this.clock.setTimeout(() => this.sentAcks.delete(key), timeout64(this.timers));
    }
  }

  /** Fills what the application may omit: Call-ID, From tag, To, CSeq, Max-Forwards. */
  private complete(out: OutgoingRequest): SipRequest {
    const base: SipRequest =
      'kind' in out
        ? out
        : { kind: 'request', method: out.method, uri: out.uri, headers: [...(out.headers ?? [])], body: out.body === undefined ? Buffer.alloc(0) : Buffer.from(out.body) };
    let headers = base.headers.filter((h) => h.name !== 'via');
    if (!getHeader(base, 'call-id')) headers = withHeader(headers, 'call-id', newCallId(this.advertised));
    const from = getHeader(base, 'from');
    const fromNa = from ? parseNameAddr(from) : undefined;
    if (!from) headers = withHeader(headers, 'from', `<${this.contactUri()}>;tag=${newTag()}`);
    else if (fromNa && fromNa.params.tag === undefined) headers = withHeader(headers, 'from', `${from};tag=${newTag()}`);
    if (!getHeader(base, 'to')) headers = withHeader(headers, 'to', `<${base.uri}>`);
    if (!getHeader(base, 'cseq')) headers = withHeader(headers, 'cseq', `1 ${base.method}`);
    if (!getHeader(base, 'max-forwards')) headers = withHeader(headers, 'max-forwards', '70');
    if (base.method === 'INVITE' || base.method === 'SUBSCRIBE' || base.method === 'REFER') {
      if (!getHeader(base, 'contact')) headers = withHeader(headers, 'contact', `<${this.contactUri()}>`);
    }
    return { ...base, headers };
  }

  /** RFC 3261 18.1.1: a request near the path MTU goes over TCP when it can. */
  private chooseTransport(dest: SipEndpoint, req: SipRequest): SipEndpoint {
    if (dest.transport === 'udp' && !this.udp) return { ...dest, transport: 'tcp' };
    if (dest.transport === 'udp' && this.tcp) {
      let size = req.body.length + req.uri.length + 100;
      for (const h of req.headers) size += h.name.length + h.value.length + 4;
      if (size > 1300) return { ...dest, transport: 'tcp' };
    }
    return dest;
  }

  private viaValue(transport: SipTransportProtocol, branch: string): string {
    const port = transport === 'tls' ? this.ports.tls : transport === 'tcp' ? this.ports.tcp : this.ports.udp;
    const host = this.advertised.includes(':') && !this.advertised.startsWith('[') ? `[${this.advertised}]` : this.advertised;
    return `SIP/2.0/${transport.toUpperCase()} ${host}:${port};branch=${branch};rport`;
  }

  /**
   * The connection for a stream destination: an open one to the peer, else the one the dialog's
   * requests came in on (a UA behind NAT or a TCP client is reachable only there), else a new one.
   */
  private connectionFor(dest: SipEndpoint, req: SipRequest, dialog: DialogState | undefined, onError: () => void): SipConnection | undefined {
    if (dest.transport === 'udp') return undefined;
    const stream = dest.transport === 'tls' ? this.tls : this.tcp;
    if (!stream) return undefined;
    const open = stream.find(dest.host, dest.port);
    if (open) return open;
    const flow = this.flows.get(dialog?.callId ?? getHeader(req, 'call-id') ?? '');
    if (flow && !flow.closed && flow.transport === dest.transport) return flow;
    return stream.connect(dest.host, dest.port, (err) => {
      this.log.info({ err, to: `${dest.host}:${dest.port}` }, 'sip: connection failed');
      onError();
    });
  }

  private sendTo(msg: SipMessage, dest: SipEndpoint, conn: SipConnection | undefined, onError: (err?: Error) => void): void {
    const data = serializeMessage(msg);
    if (dest.transport === 'udp') {
      if (!this.udp) return onError(new Error('UDP disabled'));
      this.udp.send(data, dest.host, dest.port);
      return;
    }
    if (!conn || conn.closed) return onError(new Error('no connection'));
    conn.write(data);
  }

  private synthesize(req: SipRequest, status: number): SipResponse {
    return buildResponse(req, status);
  }

  private rememberFlow(callId: string | undefined, conn: SipConnection): void {
    if (!callId) return;
    if (this.flows.get(callId) === conn) return;
    this.flows.delete(callId);
    if (this.flows.size >= MAX_SIDE_TABLE) {
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) this.flows.delete(oldest);
    }
    this.flows.set(callId, conn);
  }
}

/**
 * `headers` with the first Via replaced by `value` (the stamped top Via, 18.2.1). The other Vias
 * stay: a response copies every Via of the request (8.2.6.2), so that the proxies it passed
 * through can route the response back.
 */
function withTopVia(headers: readonly SipHeader[], value: string): SipHeader[] {
  const out = headers.slice();
  const i = out.findIndex((h) => h.name === 'via');
  if (i >= 0) out[i] = { name: 'via', value };
  else out.unshift({ name: 'via', value });
  return out;
}

/** `dialogIdOfRequest` from what the parser already parsed (To tag = local, From tag = remote). */
function dialogIdOfInfo(info: MessageInfo): DialogId | undefined {
  const localTag = info.to.params.tag;
  if (typeof localTag !== 'string' || localTag.length === 0) return undefined;
  const remoteTag = info.from.params.tag;
  return { callId: info.callId, localTag, remoteTag: typeof remoteTag === 'string' && remoteTag.length > 0 ? remoteTag : '' };
}

function fromTag(req: SipRequest): string {
  const f = getHeader(req, 'from');
  const t = f ? parseNameAddr(f)?.params.tag : undefined;
  return typeof t === 'string' ? t : '';
}
