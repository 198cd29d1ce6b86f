/**
 * Input checks for the admin API: every value an administrator sends is typed, bounded and
 * parsed before it reaches a machine, and a refusal is a 400 naming the field and why.
 * Unknown fields are refused too, so a misspelt `moderator` is not silently ignored.
 */
import { HttpError } from '../../transport/http/respond.js';
import { aorOf, parseUri } from '../../transport/sip/uri.js';
import { identityOf, type AccessList } from '../../machines/policy.js';

/** Limits of admin inputs (documented in docs and `parley rooms --help`). */
export const adminLimits = {
  /** Longest room URI, AoR or policy entry, in characters. */
  maxUriLength: 256,
  /** Most entries in one list (allow, deny, owners, moderators). */
  maxListEntries: 1000,
  /** Largest history a room may keep: the history lives in the room's snapshot. */
  maxHistorySize: 1000,
} as const;

const bad = (field: string, why: string) => new HttpError(400, `${field}: ${why}`);

/** A plain JSON object with only the `allowed` keys. */
export function objectOf(value: unknown, field: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(field, 'expected a JSON object');
  for (const k of Object.keys(value)) if (!allowed.includes(k)) throw bad(field, `unknown field "${k}" (known: ${allowed.join(', ')})`);
  return value as Record<string, unknown>;
}

/**
 * A room or user address: a `sip:`/`sips:` URI with a user part, returned as the actor key so
 * that `sips:Dev@Conf.Example;transport=tcp` and `sip:Dev@conf.example` name the same actor.
 * `as` picks the key the owning application uses: `identity` for rooms (src/app/room keys
 * rooms by `identityOf`), `aor` for mailboxes (the mailbox application keys by `aorOf`).
 */
export function addressOf(value: unknown, field: string, as: 'identity' | 'aor' = 'identity'): string {
  if (typeof value !== 'string' || value === '') throw bad(field, 'expected a SIP URI such as sip:dev@conference.example.com');
  if (value.length > adminLimits.maxUriLength) throw bad(field, `longer than ${adminLimits.maxUriLength} characters`);
  const uri = parseUri(value);
  if (uri === undefined) throw bad(field, `"${value}" is not a valid SIP URI`);
  if (uri.scheme === 'tel' || uri.user === undefined) throw bad(field, `"${value}" must be sip: or sips: with a user part (user@host)`);
  return as === 'aor' ? aorOf(uri)! : identityOf(value);
}

const DOMAIN = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * One policy entry as src/machines/policy.ts matches them: `*`, `@domain` (subdomains
 * included) or a sip/sips/tel URI. Anything else would never match and hide a typo.
 */
export function policyEntry(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw bad(field, 'expected "*", "@domain" or a SIP URI');
  if (value.length > adminLimits.maxUriLength) throw bad(field, `longer than ${adminLimits.maxUriLength} characters`);
  if (value === '*') return value;
  if (value.startsWith('@')) {
    if (!DOMAIN.test(value.slice(1))) throw bad(field, `"${value}" is not @ followed by a domain name`);
    return value.toLowerCase();
  }
  if (parseUri(value) === undefined) throw bad(field, `"${value}" is neither "*", "@domain" nor a valid sip/sips/tel URI`);
  return value;
}

/** A list of policy entries, duplicates removed, order kept. */
export function entryList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw bad(field, 'expected an array of "*", "@domain" or SIP URIs');
  if (value.length > adminLimits.maxListEntries) throw bad(field, `more than ${adminLimits.maxListEntries} entries`);
  return [...new Set(value.map((v, i) => policyEntry(v, `${field}[${i}]`)))];
}

/** `{allow, deny}`, each optional (missing = the value in `current`). */
export function accessList(value: unknown, field: string, current: AccessList): AccessList {
  const o = objectOf(value, field, ['allow', 'deny']);
  return {
    allow: o.allow === undefined ? current.allow : entryList(o.allow, `${field}.allow`),
    deny: o.deny === undefined ? current.deny : entryList(o.deny, `${field}.deny`),
  };
}

/** An integer in [min, max]. */
export function intIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw bad(field, `expected an integer from ${min} to ${max}`);
  return value;
}
