/**
 * Room policy as pure predicates: "may X do Y?" answered with a boolean and a reason that the
 * caller logs and turns into a status code (403). Entries of a list are a full URI
 * (`sip:alice@example.com`), a domain (`@example.com`, subdomains included) or `*`.
 */

export interface AccessList {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

export interface RoomPolicy {
  /** Who may create an ad-hoc room by joining it first. */
  readonly create: AccessList;
  /** Who may join. */
  readonly join: AccessList;
  /** Owners may kick and change the room; moderators may kick. */
  readonly owners: readonly string[];
  readonly moderators: readonly string[];
}

export const openPolicy: RoomPolicy = {
  create: { allow: ['*'], deny: [] },
  join: { allow: ['*'], deny: [] },
  owners: [],
  moderators: [],
};

export interface Verdict {
  readonly ok: boolean;
  readonly reason: string;
}

/**
 * The comparable identity of a URI: `<sips:Alice:pw@Example.COM:5061;x>` -> `sip:Alice@example.com`
 * (scheme sips folded into sip, password, port and parameters dropped, host lower-cased;
 * the user part stays case-sensitive, RFC 3261 19.1.4).
 */
export function identityOf(uri: string): string {
  let id = identities.get(uri);
  if (id === undefined) {
    if (identities.size >= MAX_REMEMBERED) identities.clear();
    identities.set(uri, (id = parseIdentity(uri)));
  }
  return id;
}

/**
 * The identities of the URIs seen last: every join, ACK, leave and message of a room asks for
 * its participants' identities again, and three regular expressions per call were a tenth
 * of a room machine's step (bench/runtime.ts). A pure function's cache; bounded.
 */
const identities = new Map<string, string>();
const MAX_REMEMBERED = 4096;

function parseIdentity(uri: string): string {
  const bare = uri.trim().replace(/^<|>$/g, '').split(/[;?]/, 1)[0];
  const m = /^(sips?|tel):(.*)$/i.exec(bare);
  if (m === null) return bare.toLowerCase();
  const scheme = m[1].toLowerCase();
  const at = m[2].lastIndexOf('@');
  if (scheme === 'tel' || at < 0) return `${scheme}:${m[2]}`;
  const user = m[2].slice(0, at).split(':', 1)[0];
  const host = m[2].slice(at + 1).replace(/:\d+$/, '').toLowerCase();
  return `sip:${user}@${host}`;
}

function domainOf(identity: string): string {
  const at = identity.lastIndexOf('@');
  return at >= 0 ? identity.slice(at + 1) : '';
}

function matches(entry: string, identity: string): boolean {
  if (entry === '*') return true;
  if (entry.startsWith('@')) {
    const d = entry.slice(1).toLowerCase();
    const host = domainOf(identity);
    return host === d || host.endsWith('.' + d);
  }
  return identityOf(entry) === identity;
}

/** Deny wins over allow; an empty allow list allows nobody. */
export function check(list: AccessList, uri: string, what: string): Verdict {
  const id = identityOf(uri);
  const denied = list.deny.find((e) => matches(e, id));
  if (denied) return { ok: false, reason: `${what} denied for ${id} by ${denied}` };
  const allowed = list.allow.find((e) => matches(e, id));
  if (allowed) return { ok: true, reason: `${what} allowed for ${id} by ${allowed}` };
  return { ok: false, reason: `${what} not allowed for ${id}` };
}

/** Owners and moderators may remove participants (RFC 4579 5.11 leaves "who" to policy). */
export function mayKick(policy: RoomPolicy, uri: string): Verdict {
  const id = identityOf(uri);
  if (policy.owners.some((e) => matches(e, id))) return { ok: true, reason: `${id} is an owner` };
  if (policy.moderators.some((e) => matches(e, id))) return { ok: true, reason: `${id} is a moderator` };
  return { ok: false, reason: `${id} is neither owner nor moderator` };
}
