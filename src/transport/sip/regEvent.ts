/**
 * The registration event package (RFC 3680): a NOTIFY with `Event: reg` and an
 * `application/reginfo+xml` body from an external registrar tells a node behind a proxy that
 * a user came online or went offline. `parseReginfo` reads the document (fast-xml-parser,
 * entities off, DOCTYPE refused); `RegEventTracker` keeps the contact state of one
 * subscription, applies full and partial documents (RFC 3680 5.4) and yields the same
 * `RegistrationEvent`s as the embedded registrar.
 */
import { XMLParser } from 'fast-xml-parser';
import { ProtocolError } from '../../errors.js';
import type { SipRequest } from './message.js';
import { getHeader } from './headers.js';
import type { RegistrationEvent } from './registrar.js';
import type { RegisteredContact } from './registrationStore.js';
import { aorOf } from './uri.js';

export interface ReginfoContact {
  readonly id: string;
  readonly state: 'active' | 'terminated';
  /** registered, created, refreshed, shortened, expired, deactivated, probation, unregistered, rejected. */
  readonly event: string;
  readonly uri: string;
  readonly expires?: number;
}

export interface ReginfoRegistration {
  readonly aor: string;
  readonly id: string;
  readonly state: 'init' | 'active' | 'terminated';
  readonly contacts: readonly ReginfoContact[];
}

export interface Reginfo {
  readonly version: number;
  readonly state: 'full' | 'partial';
  readonly registrations: readonly ReginfoRegistration[];
}

/** Limits of one reginfo document. */
export interface ReginfoLimits {
  readonly maxBytes: number;
  readonly maxRegistrations: number;
  readonly maxContacts: number;
}

export const defaultReginfoLimits: ReginfoLimits = Object.freeze({ maxBytes: 65536, maxRegistrations: 100, maxContacts: 100 });

const bad = (why: string) => new ProtocolError('SIP_BAD_REGINFO', 400, `Bad Request - reginfo: ${why}`);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  processEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => name === 'registration' || name === 'contact',
});

type Node = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);

/** Parses an RFC 3680 document; throws ProtocolError(400) when it is not one, 413 when too big. */
export function parseReginfo(body: Buffer | string, limits: ReginfoLimits = defaultReginfoLimits): Reginfo {
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (bytes > limits.maxBytes) throw new ProtocolError('SIP_REGINFO_TOO_LARGE', 413, 'Request Entity Too Large - reginfo');
  const text = typeof body === 'string' ? body : body.toString('utf8');
  // No DTDs at all: nothing in RFC 3680 needs one and they carry entity expansion attacks.
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw bad('DOCTYPE not allowed');
  let doc: Node;
  try {
    doc = parser.parse(text) as Node;
  } catch (e) {
    throw bad(e instanceof Error ? e.message.split('\n')[0] : 'malformed XML');
  }
  const root = doc.reginfo as Node | undefined;
  if (!root || typeof root !== 'object') throw bad('no reginfo element');
  const version = Number(str(root['@_version']));
  const state = str(root['@_state']);
  if (!Number.isInteger(version) || version < 0) throw bad('bad version');
  if (state !== 'full' && state !== 'partial') throw bad('bad state');
  const regs = (root.registration as Node[] | undefined) ?? [];
  if (regs.length > limits.maxRegistrations) throw bad('too many registrations');
  let contactCount = 0;
  const registrations = regs.map((r): ReginfoRegistration => {
    const rawAor = str(r['@_aor']);
    // Same key as the embedded registrar's (sip:user@host, lower-case host), so mailboxes match.
    const aor = rawAor ? (aorOf(rawAor) ?? rawAor) : undefined;
    const id = str(r['@_id']);
    const rs = str(r['@_state']);
    if (!aor || !id || (rs !== 'init' && rs !== 'active' && rs !== 'terminated')) throw bad('bad registration element');
    const contacts = ((r.contact as Node[] | undefined) ?? []).map((c): ReginfoContact => {
      if (++contactCount > limits.maxContacts) throw bad('too many contacts');
      const cid = str(c['@_id']);
      const cs = str(c['@_state']);
      const ev = str(c['@_event']) ?? '';
      const uriNode = c.uri;
      const uri = str(typeof uriNode === 'object' && uriNode !== null ? (uriNode as Node)['#text'] : uriNode);
      if (!cid || (cs !== 'active' && cs !== 'terminated') || !uri) throw bad('bad contact element');
      const exp = str(c['@_expires']);
      const expires = exp !== undefined && /^\d{1,10}$/.test(exp) ? Number(exp) : undefined;
      return { id: cid, state: cs, event: ev, uri, ...(expires !== undefined ? { expires } : {}) };
    });
    return { aor, id, state: rs, contacts };
  });
  return { version, state, registrations };
}

/**
 * Checks that a NOTIFY is a reg event with a reginfo body and parses it. Throws
 * ProtocolError 489 (another Event), 415 (another body type) or 400/413 (bad body).
 */
export function reginfoFromNotify(req: SipRequest, limits?: ReginfoLimits): Reginfo {
  const event = (getHeader(req, 'event') ?? '').split(';')[0].trim().toLowerCase();
  if (event !== 'reg') throw new ProtocolError('SIP_BAD_EVENT', 489, 'Bad Event');
  const type = (getHeader(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/reginfo+xml') throw new ProtocolError('SIP_BAD_CONTENT_TYPE', 415, 'Unsupported Media Type');
  return parseReginfo(req.body, limits);
}

/**
 * The registration state learnt from one subscription's NOTIFYs. Versions must increase
 * (RFC 3680 5.4): a partial document whose version is not the next one is refused (the
 * caller should re-SUBSCRIBE to get a full state); a stale one is ignored.
 */
export class RegEventTracker {
  private version = -1;
  private readonly aors = new Map<string, Map<string, RegisteredContact>>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Applies a document; returns the events to publish, or `resync` when a partial was missed. */
  apply(info: Reginfo): { events: RegistrationEvent[]; resync: boolean } {
    if (this.version >= 0 && info.version <= this.version) return { events: [], resync: false };
    if (info.state === 'partial' && this.version >= 0 && info.version !== this.version + 1) {
      return { events: [], resync: true };
    }
    this.version = info.version;
    const events: RegistrationEvent[] = [];
    for (const r of info.registrations) {
      const before = this.aors.get(r.aor) ?? new Map<string, RegisteredContact>();
      const after = info.state === 'full' ? new Map<string, RegisteredContact>() : new Map(before);
      for (const c of r.contacts) {
        if (c.state === 'active') {
          after.set(c.id, { uri: c.uri, path: [], ...(c.expires !== undefined ? { expiresAt: this.now() + c.expires * 1000 } : {}) });
        } else after.delete(c.id);
      }
      if (r.state === 'terminated') after.clear();
      this.aors.set(r.aor, after);
      const added = [...after.keys()].some((id) => !before.has(id));
      if (added) events.push({ type: 'online', aor: r.aor, contacts: [...after.values()] });
      else if (before.size > 0 && after.size === 0) events.push({ type: 'offline', aor: r.aor, contacts: [] });
    }
    return { events, resync: false };
  }

  /** Current contacts of an AoR as learnt. */
  contacts(aor: string): RegisteredContact[] {
    return [...(this.aors.get(aor)?.values() ?? [])];
  }
}
