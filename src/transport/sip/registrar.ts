/**
 * The embedded registrar (RFC 3261 10.3, RFC 3327 Path). Bindings live in LMDB
 * (`RegistrationStore`), expire by timers on the injected Clock, and every change that matters
 * to a mailbox is published as a `RegistrationEvent`:
 * - `online` when a REGISTER adds at least one new contact (a refresh of known contacts
 *   publishes nothing), with all current contacts;
 * - `offline` when the last contact of an AoR is removed or expires.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../clock.js';
import type { SipHeader, SipRequest } from './message.js';
import type { IncomingRequest, SipEndpoint } from './transport.js';
import type { Binding, RegisteredContact, RegistrationStore } from './registrationStore.js';
import { getHeader, getHeaders, parseDeltaSeconds } from './headers.js';
import { parseCSeq, parseNameAddr } from './nameAddr.js';
import { aorOf } from './uri.js';

/** What mailboxes hear: an AoR came online (new contacts) or went offline. */
export interface RegistrationEvent {
  readonly type: 'online' | 'offline';
  readonly aor: string;
  readonly contacts: readonly RegisteredContact[];
}

/** A listener set: the registrar and the reg-event tracker publish through one of these. */
export class RegistrationEvents {
  private readonly listeners = new Set<(e: RegistrationEvent) => void>();
  constructor(private readonly logger?: Logger) {}
  /** Adds a listener; returns its removal. */
  on(listener: (e: RegistrationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: RegistrationEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger?.error({ err, aor: e.aor }, 'sip: registration listener threw');
      }
    }
  }
}

export interface RegistrarOptions {
  readonly store: RegistrationStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly events?: RegistrationEvents;
  /** Shortest accepted non-zero expiry, seconds; shorter gets 423 (10.3 step 7). Default 60. */
  readonly minExpires?: number;
  /** Longest expiry granted; longer is shortened. Default 3600. */
  readonly maxExpires?: number;
  /** Expiry when the REGISTER gives none. Default 3600. */
  readonly defaultExpires?: number;
  /** Most contacts per AoR; more gets 403. Default 10. */
  readonly maxContacts?: number;
}

/** The answer to one REGISTER. */
export interface RegisterResult {
  readonly status: number;
  readonly reason?: string;
  readonly headers: SipHeader[];
}

export class Registrar {
  readonly events: RegistrationEvents;
  private readonly timers = new Map<string, TimerHandle>();
  private readonly min: number;
  private readonly max: number;
  private readonly def: number;
  private readonly maxContacts: number;

  constructor(private readonly o: RegistrarOptions) {
    this.events = o.events ?? new RegistrationEvents(o.logger);
    this.min = o.minExpires ?? 60;
    this.max = o.maxExpires ?? 3600;
    this.def = Math.min(o.defaultExpires ?? 3600, this.max);
    this.maxContacts = o.maxContacts ?? 10;
  }

  /** Arms an expiry timer for every stored binding (overdue ones expire at once). */
  start(): void {
    for (const b of this.o.store.all()) this.arm(b);
  }

  /** Cancels the timers (bindings stay stored). */
  close(): void {
    for (const h of this.timers.values()) this.o.clock.clearTimeout(h);
    this.timers.clear();
  }

  /** Current (unexpired) contacts of an AoR, e.g. to deliver stored messages. */
  lookup(aor: string): Binding[] {
    const now = this.o.clock.now();
    return this.o.store.list(aor).filter((b) => b.expiresAt > now);
  }

  /** `SipStackOptions.registrar` hook: answers the REGISTER once the bindings are committed. */
  handle(req: IncomingRequest): void {
    this.process(req.request, req.source).then(
      (r) => req.respond(r.status, r.reason, { headers: r.headers }),
      (err: unknown) => {
        this.o.logger.error({ err }, 'sip: registrar failed');
        req.respond(500);
      },
    );
  }

  /** RFC 3261 10.3 steps 4-8 for one REGISTER; bindings change atomically or not at all. */
  async process(req: SipRequest, source?: SipEndpoint): Promise<RegisterResult> {
    const to = parseNameAddr(getHeader(req, 'to') ?? '');
    const aor = to ? aorOf(to.uri) : undefined;
    if (!aor) return { status: 404, reason: 'Not Found - bad address of record', headers: [] };
    const callId = getHeader(req, 'call-id') ?? '';
    const cseq = parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0;
    const expiresHeader = getHeader(req, 'expires');
    const headerExpires = expiresHeader === undefined ? undefined : parseDeltaSeconds(expiresHeader);
    const contactValues = getHeaders(req, 'contact');
    const path = getHeaders(req, 'path');
    const now = this.o.clock.now();

    const wildcard = contactValues.some((c) => c.trim() === '*');
    if (wildcard && (contactValues.length !== 1 || headerExpires !== 0)) {
      return { status: 400, reason: 'Bad Request - Contact * needs Expires: 0 and no other Contact', headers: [] };
    }
    const wanted: Array<{ uri: string; expires: number; q?: string }> = [];
    if (!wildcard) {
      for (const value of contactValues) {
        const na = parseNameAddr(value);
        if (!na) return { status: 400, reason: 'Bad Request - malformed Contact', headers: [] };
        const p = na.params.expires;
        let expires = typeof p === 'string' ? parseDeltaSeconds(p) : headerExpires;
        if (expires === undefined) expires = this.def;
        if (expires > 0 && expires < this.min) {
          return { status: 423, headers: [{ name: 'min-expires', value: String(this.min) }] };
        }
        const q = na.params.q;
        wanted.push({ uri: na.uri, expires: Math.min(expires, this.max), ...(typeof q === 'string' ? { q } : {}) });
      }
    }

    const outcome = await this.o.store.transact((w) => {
      const before = w.list(aor).filter((b) => b.expiresAt > now);
      const current = new Map(before.map((b) => [b.uri, b]));
      if (wildcard) {
        for (const b of before) {
          if (b.callId === callId && cseq <= b.cseq) return { error: 'order' as const };
        }
        for (const b of w.list(aor)) w.remove(aor, b.uri);
        return { before, after: [] as Binding[], added: false };
      }
      const puts: Binding[] = [];
      const removes: string[] = [];
      for (const c of wanted) {
        const old = current.get(c.uri);
        // 10.3 step 7: same Call-ID with a CSeq not higher than stored is out of order.
        if (old && old.callId === callId && cseq <= old.cseq) return { error: 'order' as const };
        if (c.expires === 0) {
          if (old) removes.push(c.uri);
          current.delete(c.uri);
          continue;
        }
        const b: Binding = {
          aor,
          uri: c.uri,
          expiresAt: now + c.expires * 1000,
          path,
          callId,
          cseq,
          registeredAt: old?.registeredAt ?? now,
          ...(c.q !== undefined ? { q: c.q } : {}),
          ...(source ? { source } : {}),
        };
        current.set(c.uri, b);
        puts.push(b);
      }
      if (current.size > this.maxContacts) return { error: 'too-many' as const };
      for (const uri of removes) w.remove(aor, uri);
      for (const b of puts) w.put(b);
      // Expired leftovers go too.
      for (const b of w.list(aor)) if (b.expiresAt <= now && !current.has(b.uri)) w.remove(aor, b.uri);
      const added = puts.some((b) => !before.some((x) => x.uri === b.uri));
      return { before, after: [...current.values()], added };
    });

    if ('error' in outcome) {
      return outcome.error === 'order'
        ? { status: 500, reason: 'Server Internal Error - CSeq out of order', headers: [] }
        : { status: 403, reason: `Forbidden - more than ${this.maxContacts} contacts`, headers: [] };
    }
    for (const b of outcome.before) if (!outcome.after.some((a) => a.uri === b.uri)) this.disarm(b);
    for (const b of outcome.after) this.arm(b);
    if (outcome.added) this.events.emit({ type: 'online', aor, contacts: outcome.after });
    else if (outcome.before.length > 0 && outcome.after.length === 0) this.events.emit({ type: 'offline', aor, contacts: [] });

    const headers: SipHeader[] = outcome.after.map((b) => ({
      name: 'contact',
      value: `<${b.uri}>;expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}${b.q !== undefined ? `;q=${b.q}` : ''}`,
    }));
    // RFC 3327 5.3: echo Path when the UA said it supports it.
    if (path.length > 0 && getHeaders(req, 'supported').some((t) => t.toLowerCase() === 'path')) {
      for (const p of path) headers.push({ name: 'path', value: p });
    }
    headers.push({ name: 'date', value: new Date(now).toUTCString() });
    return { status: 200, headers };
  }

  private key(b: { aor: string; uri: string }): string {
    return `${b.aor}\u0000${b.uri}`;
  }

  private disarm(b: Binding): void {
    const k = this.key(b);
    const h = this.timers.get(k);
    if (h) this.o.clock.clearTimeout(h);
    this.timers.delete(k);
  }

  private arm(b: Binding): void {
    this.disarm(b);
    const k = this.key(b);
    this.timers.set(
      k,
      this.o.clock.setTimeout(() => {
        this.timers.delete(k);
        void this.expire(b.aor, b.uri);
      }, Math.max(0, b.expiresAt - this.o.clock.now())),
    );
  }

  private async expire(aor: string, uri: string): Promise<void> {
    const now = this.o.clock.now();
    try {
      const left = await this.o.store.transact((w) => {
        const b = w.list(aor).find((x) => x.uri === uri);
        if (!b || b.expiresAt > now) return undefined; // refreshed meanwhile
        w.remove(aor, uri);
        return w.list(aor).filter((x) => x.uri !== uri && x.expiresAt > now).length;
      });
      if (left === 0) this.events.emit({ type: 'offline', aor, contacts: [] });
    } catch (err) {
      this.o.logger.error({ err, aor }, 'sip: could not expire a binding');
    }
  }
}

/**
 * An out-of-dialog request to a registered contact: Request-URI = the contact, Route = its
 * Path (RFC 3327 5.3: the stored Path is the route set towards the UA).
 */
export function requestToContact(
  contact: RegisteredContact,
  method: string,
  headers: readonly SipHeader[] = [],
  body?: Buffer | string,
): { method: string; uri: string; headers: SipHeader[]; body?: Buffer | string } {
  return { method, uri: contact.uri, headers: [...contact.path.map((value) => ({ name: 'route', value })), ...headers], ...(body !== undefined ? { body } : {}) };
}
