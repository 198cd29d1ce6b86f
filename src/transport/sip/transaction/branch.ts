/** Branch ids and tags: RFC 3261 8.1.1.7 (magic cookie) and 19.3 (tags, >= 32 random bits). */
import { randomBytes } from 'node:crypto';
import { MAGIC_COOKIE } from './table.js';

/** A new branch: the magic cookie followed by 96 random bits, base64url (RFC 3261 8.1.1.7). */
export function newBranch(): string {
  return MAGIC_COOKIE + randomBytes(12).toString('base64url');
}

/** A new From/To tag: 64 random bits (RFC 3261 19.3 asks for at least 32). */
export function newTag(): string {
  return randomBytes(8).toString('hex');
}

/** A new Call-ID: 128 random bits, optionally `@host` (RFC 3261 8.1.1.4). */
export function newCallId(host?: string): string {
  const id = randomBytes(16).toString('hex');
  return host ? `${id}@${host}` : id;
}
