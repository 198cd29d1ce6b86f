/** Branch ids and tags: RFC 3261 8.1.1.7 (magic cookie) and 19.3 (tags, >= 32 random bits). */
import { randomFillSync } from 'node:crypto';
import { MAGIC_COOKIE } from './table.js';

// Every response to a new request carries a fresh To tag, so under load this is called
// thousands of times a second: one randomFillSync per 4 KiB instead of one per tag.
const pool = Buffer.alloc(4096);
let used = pool.length;

/** Offset of `n` fresh random bytes in `pool`. */
function take(n: number): number {
  if (used + n > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += n;
  return at;
}

function random(n: number): Buffer {
  const at = take(n);
  return pool.subarray(at, at + n);
}

/** A new branch: the magic cookie followed by 96 random bits, base64url (RFC 3261 8.1.1.7). */
export function newBranch(): string {
  return MAGIC_COOKIE + random(12).toString('base64url');
}

/** A new From/To tag: 64 random bits (RFC 3261 19.3 asks for at least 32). */
export function newTag(): string {
  const at = take(8);
  return pool.toString('hex', at, at + 8); // no subarray object per tag
}

/** A new Call-ID: 128 random bits, optionally `@host` (RFC 3261 8.1.1.4). */
export function newCallId(host?: string): string {
  const at = take(16);
  const id = pool.toString('hex', at, at + 16);
  return host ? `${id}@${host}` : id;
}
