/**
 * RFC 4575 conference state documents (`application/conference-info+xml`), the body of the
 * NOTIFYs of `Event: conference`: build full and partial documents, and parse them (tests,
 * and a focus that subscribes to another). Only the parts a chat room uses are modelled:
 * conference-description (display-text, subject, free-text, conf-uris, service-uris,
 * maximum-user-count), conference-state (user-count, active, locked), and users with their
 * endpoints and media. Element order follows the RFC 4575 section 5 schema sequences.
 */
import { ProtocolError } from '../errors.js';
import { escapeXml, parseXmlSafely, type XmlNode } from './xml.js';

/** RFC 4575 content type. */
export const CONFERENCE_INFO_CONTENT_TYPE = 'application/conference-info+xml';
/** RFC 4575 namespace. */
export const CONFERENCE_INFO_NS = 'urn:ietf:params:xml:ns:conference-info';

/**
 * The `state` attribute (RFC 4575 4.4/5.1): `full` carries the whole element, `partial` only
 * what changed, `deleted` removes the element (identified by its key attribute).
 */
export type ElementState = 'full' | 'partial' | 'deleted';

/** Endpoint status values (RFC 4575 5.7.3). */
export type EndpointStatus =
  | 'pending' | 'dialing-out' | 'dialing-in' | 'alerting' | 'on-hold' | 'connected' | 'muted-via-focus' | 'disconnecting' | 'disconnected';

const ENDPOINT_STATUSES: ReadonlySet<string> = new Set([
  'pending', 'dialing-out', 'dialing-in', 'alerting', 'on-hold', 'connected', 'muted-via-focus', 'disconnecting', 'disconnected',
]);

/** One conf-uris / service-uris entry (RFC 4575 5.3.1, uri-type). */
export interface ConfUri {
  readonly uri: string;
  readonly displayText?: string;
  /** `participation`, `streaming`, `web-page`... (RFC 4575 5.3.1). */
  readonly purpose?: string;
}

export interface ConferenceDescription {
  readonly displayText?: string;
  readonly subject?: string;
  readonly freeText?: string;
  readonly confUris?: readonly ConfUri[];
  readonly serviceUris?: readonly ConfUri[];
  readonly maximumUserCount?: number;
}

export interface ConferenceStateInfo {
  readonly userCount?: number;
  readonly active?: boolean;
  readonly locked?: boolean;
}

/** When, why and by whom a participant joined or left (RFC 4575 5.7.5, execution-type). */
export interface Execution {
  /** xs:dateTime, e.g. `2026-12-01T12:00:00Z`. */
  readonly when?: string;
  readonly reason?: string;
  readonly by?: string;
}

/** One media stream of an endpoint (RFC 4575 5.7.7); `type` is `message` for an MSRP chat. */
export interface ConferenceMedia {
  /** Unique among the endpoint's media; required by the schema. */
  readonly id: string;
  readonly displayText?: string;
  readonly type?: string;
  readonly label?: string;
  readonly srcId?: string;
  /** `sendrecv`, `sendonly`, `recvonly`, `inactive`. */
  readonly status?: string;
}

/** One device or session of a user (RFC 4575 5.7). */
export interface ConferenceEndpoint {
  /** The endpoint's URI (the participant's Contact, or its session); key for partial updates. */
  readonly entity?: string;
  readonly state?: ElementState;
  readonly displayText?: string;
  readonly status?: EndpointStatus;
  /** `dialed-in`, `dialed-out`, `focus-owner`. */
  readonly joiningMethod?: string;
  readonly joiningInfo?: Execution;
  /** `departed`, `booted`, `failed`, `busy`. */
  readonly disconnectionMethod?: string;
  readonly disconnectionInfo?: Execution;
  readonly media?: readonly ConferenceMedia[];
}

/** One participant (RFC 4575 5.6); `displayText` is the chat nickname (RFC 7701). */
export interface ConferenceUser {
  readonly entity: string;
  readonly state?: ElementState;
  readonly displayText?: string;
  /** Roles (RFC 4575 5.6.3): `participant`, `administrator`... */
  readonly roles?: readonly string[];
  readonly endpoints?: readonly ConferenceEndpoint[];
}

/** A whole document. */
export interface ConferenceInfo {
  /** The conference URI (the room). */
  readonly entity: string;
  readonly state: ElementState;
  /** Per subscription: 1 for the first document, +1 per document (RFC 4575 4.1). */
  readonly version: number;
  readonly description?: ConferenceDescription;
  readonly conferenceState?: ConferenceStateInfo;
  /** Users; absent means no `users` element (a partial that changes only the description). */
  readonly users?: readonly ConferenceUser[];
  /** State of the `users` container; default `full` in a full document, `partial` in a partial one. */
  readonly usersState?: ElementState;
}

/** Parser limits. */
export interface ConferenceInfoLimits {
  /** Largest document. Default 256 KiB (a room of a thousand users fits). */
  readonly maxBytes: number;
  /** Most users. Default 2000. */
  readonly maxUsers: number;
  /** Most endpoints in the whole document. Default 4000. */
  readonly maxEndpoints: number;
  /** Most media, conf-uris, service-uris and roles entries in the whole document. Default 8000. */
  readonly maxEntries: number;
}

export const DEFAULT_CONFERENCE_INFO_LIMITS: ConferenceInfoLimits = Object.freeze({
  maxBytes: 256 * 1024,
  maxUsers: 2000,
  maxEndpoints: 4000,
  maxEntries: 8000,
});

// ---- building -----------------------------------------------------------------------------

function el(name: string, value: string | number | boolean | undefined, pad: string): string {
  return value === undefined ? '' : `${pad}<${name}>${escapeXml(String(value))}</${name}>\n`;
}

function attrs(list: Array<[string, string | number | undefined]>): string {
  return list.map(([k, v]) => (v === undefined ? '' : ` ${k}="${escapeXml(String(v))}"`)).join('');
}

function uriList(name: string, list: readonly ConfUri[] | undefined, pad: string): string {
  if (list === undefined) return '';
  let x = `${pad}<${name}>\n`;
  for (const u of list) {
    x += `${pad}  <entry>\n${el('uri', u.uri, pad + '    ')}${el('display-text', u.displayText, pad + '    ')}${el('purpose', u.purpose, pad + '    ')}${pad}  </entry>\n`;
  }
  return `${x}${pad}</${name}>\n`;
}

function execution(name: string, e: Execution | undefined, pad: string): string {
  if (e === undefined) return '';
  return `${pad}<${name}>\n${el('when', e.when, pad + '  ')}${el('reason', e.reason, pad + '  ')}${el('by', e.by, pad + '  ')}${pad}</${name}>\n`;
}

function endpointXml(e: ConferenceEndpoint, pad: string): string {
  const p = pad + '  ';
  let x = `${pad}<endpoint${attrs([['entity', e.entity], ['state', e.state]])}>\n`;
  x += el('display-text', e.displayText, p) + el('status', e.status, p) + el('joining-method', e.joiningMethod, p);
  x += execution('joining-info', e.joiningInfo, p) + el('disconnection-method', e.disconnectionMethod, p);
  x += execution('disconnection-info', e.disconnectionInfo, p);
  for (const m of e.media ?? []) {
    const q = p + '  ';
    x += `${p}<media${attrs([['id', m.id]])}>\n${el('display-text', m.displayText, q)}${el('type', m.type, q)}${el('label', m.label, q)}`;
    x += `${el('src-id', m.srcId, q)}${el('status', m.status, q)}${p}</media>\n`;
  }
  return `${x}${pad}</endpoint>\n`;
}

function userXml(u: ConferenceUser, pad: string): string {
  const p = pad + '  ';
  // RFC 4575 4.4: a deleted element carries only its key.
  if (u.state === 'deleted') return `${pad}<user${attrs([['entity', u.entity], ['state', 'deleted']])}/>\n`;
  let x = `${pad}<user${attrs([['entity', u.entity], ['state', u.state]])}>\n${el('display-text', u.displayText, p)}`;
  if (u.roles !== undefined) x += `${p}<roles>\n${u.roles.map((r) => el('entry', r, p + '  ')).join('')}${p}</roles>\n`;
  for (const e of u.endpoints ?? []) x += endpointXml(e, p);
  return `${x}${pad}</user>\n`;
}

/**
 * Writes a document (RFC 4575 section 5 element order, section 6 layout); every text and
 * attribute value is XML-escaped, so nicknames and subjects are safe whatever they contain.
 */
export function buildConferenceInfo(doc: ConferenceInfo): string {
  let x = `<?xml version="1.0" encoding="UTF-8"?>\n<conference-info xmlns="${CONFERENCE_INFO_NS}"${attrs([
    ['entity', doc.entity],
    ['state', doc.state],
    ['version', Math.floor(doc.version)],
  ])}>\n`;
  const d = doc.description;
  if (d !== undefined) {
    x += '  <conference-description>\n';
    x += el('display-text', d.displayText, '    ') + el('subject', d.subject, '    ') + el('free-text', d.freeText, '    ');
    x += uriList('conf-uris', d.confUris, '    ') + uriList('service-uris', d.serviceUris, '    ');
    x += el('maximum-user-count', d.maximumUserCount, '    ');
    x += '  </conference-description>\n';
  }
  const s = doc.conferenceState;
  if (s !== undefined) {
    x += `  <conference-state>\n${el('user-count', s.userCount, '    ')}${el('active', s.active, '    ')}${el('locked', s.locked, '    ')}  </conference-state>\n`;
  }
  if (doc.users !== undefined) {
    const us = doc.usersState ?? (doc.state === 'partial' ? 'partial' : undefined);
    x += `  <users${attrs([['state', us]])}>\n${doc.users.map((u) => userXml(u, '    ')).join('')}  </users>\n`;
  }
  return `${x}</conference-info>\n`;
}

/** A change of one participant, for a partial document. */
export type UserChange =
  | { readonly op: 'added' | 'changed'; readonly user: ConferenceUser }
  | { readonly op: 'removed'; readonly entity: string };

/**
 * A partial document (RFC 4575 4.4) for user changes: added and changed users are sent whole
 * (`state="full"`, simpler for clients than a partial user), removed ones as
 * `state="deleted"`. `userCount` updates conference-state when given.
 */
export function partialConferenceInfo(entity: string, version: number, changes: readonly UserChange[], userCount?: number): ConferenceInfo {
  const users = changes.map((c): ConferenceUser => (c.op === 'removed' ? { entity: c.entity, state: 'deleted' } : { ...c.user, state: 'full' }));
  return {
    entity,
    state: 'partial',
    version,
    ...(userCount !== undefined ? { conferenceState: { userCount } } : {}),
    users,
    usersState: 'partial',
  };
}

// ---- parsing ------------------------------------------------------------------------------

function bad(why: string): ProtocolError {
  return new ProtocolError('CONFERENCE_INFO_MALFORMED', 400, `conference-info: ${why}`);
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const t = (v as XmlNode)['#text'];
    return typeof t === 'string' ? t : Object.keys(v).every((k) => k.startsWith('@_')) ? '' : undefined;
  }
  return undefined;
}

function node(v: unknown): XmlNode | undefined {
  if (v === '') return {};
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as XmlNode) : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function stateAttr(n: XmlNode, where: string): ElementState | undefined {
  const s = n['@_state'];
  if (s === undefined) return undefined;
  if (s !== 'full' && s !== 'partial' && s !== 'deleted') throw bad(`bad state on ${where}`);
  return s;
}

function count(v: unknown, what: string): number | undefined {
  const t = text(v);
  if (t === undefined) return undefined;
  if (!/^\d{1,9}$/.test(t)) throw bad(`bad ${what}`);
  return Number(t);
}

function bool(v: unknown, what: string): boolean | undefined {
  const t = text(v);
  if (t === undefined) return undefined;
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw bad(`bad ${what}`);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Sets optional string fields present in the node. */
function strings<T extends object>(out: T, n: XmlNode, map: Record<string, keyof T>): void {
  for (const [tag, key] of Object.entries(map)) {
    const t = text(n[tag]);
    if (t !== undefined) (out as Record<keyof T, unknown>)[key] = t;
  }
}

class Budget {
  endpoints = 0;
  entries = 0;
  constructor(readonly limits: ConferenceInfoLimits) {}
  entry(n: number): void {
    this.entries += n;
    if (this.entries > this.limits.maxEntries) throw new ProtocolError('CONFERENCE_INFO_TOO_LARGE', 413, 'conference-info: too many entries');
  }
}

function uris(v: unknown, budget: Budget): ConfUri[] {
  const entries = list(node(v)?.entry);
  budget.entry(entries.length);
  return entries.map((e) => {
    const n = node(e);
    const uri = n ? text(n.uri) : undefined;
    if (n === undefined || uri === undefined || uri === '') throw bad('uri entry without uri');
    const out: Mutable<ConfUri> = { uri };
    strings(out, n, { 'display-text': 'displayText', purpose: 'purpose' });
    return out;
  });
}

function exec(v: unknown): Execution | undefined {
  const n = node(v);
  if (n === undefined) return undefined;
  const out: Mutable<Execution> = {};
  strings(out, n, { when: 'when', reason: 'reason', by: 'by' });
  return out;
}

function endpoint(v: unknown, budget: Budget): ConferenceEndpoint {
  if (++budget.endpoints > budget.limits.maxEndpoints) throw new ProtocolError('CONFERENCE_INFO_TOO_LARGE', 413, 'conference-info: too many endpoints');
  const n = node(v);
  if (n === undefined) throw bad('malformed endpoint');
  const out: Mutable<ConferenceEndpoint> = {};
  const entity = n['@_entity'];
  if (typeof entity === 'string') out.entity = entity;
  const st = stateAttr(n, 'endpoint');
  if (st !== undefined) out.state = st;
  strings(out, n, { 'display-text': 'displayText', 'joining-method': 'joiningMethod', 'disconnection-method': 'disconnectionMethod' });
  const status = text(n.status);
  if (status !== undefined) {
    if (!ENDPOINT_STATUSES.has(status)) throw bad(`unknown endpoint status ${JSON.stringify(status.slice(0, 40))}`);
    out.status = status as EndpointStatus;
  }
  const ji = exec(n['joining-info']);
  if (ji !== undefined) out.joiningInfo = ji;
  const di = exec(n['disconnection-info']);
  if (di !== undefined) out.disconnectionInfo = di;
  const media = list(n.media);
  budget.entry(media.length);
  if (media.length > 0) {
    out.media = media.map((m) => {
      const mn = node(m);
      const id = mn?.['@_id'];
      if (mn === undefined || typeof id !== 'string') throw bad('media without id');
      const o: Mutable<ConferenceMedia> = { id };
      strings(o, mn, { 'display-text': 'displayText', type: 'type', label: 'label', 'src-id': 'srcId', status: 'status' });
      return o;
    });
  }
  return out;
}

function user(v: unknown, budget: Budget): ConferenceUser {
  const n = node(v);
  const entity = n?.['@_entity'];
  if (n === undefined || typeof entity !== 'string' || entity === '') throw bad('user without entity');
  const out: Mutable<ConferenceUser> = { entity };
  const st = stateAttr(n, 'user');
  if (st !== undefined) out.state = st;
  strings(out, n, { 'display-text': 'displayText' });
  if (n.roles !== undefined) {
    const roles = list(node(n.roles)?.entry);
    budget.entry(roles.length);
    out.roles = roles.map((r) => {
      const t = text(r);
      if (t === undefined) throw bad('bad role');
      return t;
    });
  }
  const eps = list(n.endpoint);
  if (eps.length > 0) out.endpoints = eps.map((e) => endpoint(e, budget));
  return out;
}

/**
 * Parses a conference-info document through the safe XML parser (no entities, size and depth
 * limits). A malformed document is a ProtocolError(400), one over a limit 413; never throws.
 */
export function parseConferenceInfo(body: string | Buffer, limits: Partial<ConferenceInfoLimits> = {}): ConferenceInfo | ProtocolError {
  const l: ConferenceInfoLimits = { ...DEFAULT_CONFERENCE_INFO_LIMITS, ...limits };
  const doc = parseXmlSafely(body, { maxBytes: l.maxBytes, maxDepth: 16, arrays: ['user', 'endpoint', 'media', 'entry'] });
  if (doc instanceof ProtocolError) return doc;
  try {
    const root = node(doc['conference-info']);
    if (root === undefined) return bad('no conference-info element');
    const entity = root['@_entity'];
    if (typeof entity !== 'string' || entity === '') return bad('missing entity');
    const state = stateAttr(root, 'conference-info') ?? 'full';
    const versionText = root['@_version'];
    if (typeof versionText !== 'string' || !/^\d{1,10}$/.test(versionText)) return bad('bad version');
    const out: Mutable<ConferenceInfo> = { entity, state, version: Number(versionText) };
    const budget = new Budget(l);
    const dn = node(root['conference-description']);
    if (dn !== undefined) {
      const d: Mutable<ConferenceDescription> = {};
      strings(d, dn, { 'display-text': 'displayText', subject: 'subject', 'free-text': 'freeText' });
      if (dn['conf-uris'] !== undefined) d.confUris = uris(dn['conf-uris'], budget);
      if (dn['service-uris'] !== undefined) d.serviceUris = uris(dn['service-uris'], budget);
      const max = count(dn['maximum-user-count'], 'maximum-user-count');
      if (max !== undefined) d.maximumUserCount = max;
      out.description = d;
    }
    const sn = node(root['conference-state']);
    if (sn !== undefined) {
      const s: Mutable<ConferenceStateInfo> = {};
      const uc = count(sn['user-count'], 'user-count');
      if (uc !== undefined) s.userCount = uc;
      const active = bool(sn.active, 'active');
      if (active !== undefined) s.active = active;
      const locked = bool(sn.locked, 'locked');
      if (locked !== undefined) s.locked = locked;
      out.conferenceState = s;
    }
    if (root.users !== undefined) {
      const un = node(root.users);
      if (un === undefined) return bad('malformed users');
      const us = stateAttr(un, 'users');
      if (us !== undefined) out.usersState = us;
      const users = list(un.user);
      if (users.length > l.maxUsers) return new ProtocolError('CONFERENCE_INFO_TOO_LARGE', 413, `conference-info: more than ${l.maxUsers} users`);
      out.users = users.map((u) => user(u, budget));
    }
    return out;
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    return bad('unexpected structure');
  }
}
