/**
 * Transaction matching (RFC 3261 17.1.3 and 17.2.3) and the bounded table of live
 * transactions. Keys are strings so a lookup is one Map access per message.
 */
import type { Via } from '../message.js';

/** RFC 3261 8.1.1.7: branch ids that start with this cookie are globally unique. */
export const MAGIC_COOKIE = 'z9hG4bK';

/**
 * Client transaction key (17.1.3): the branch of the top Via plus the CSeq method, because a
 * CANCEL shares its INVITE's branch.
 */
export function clientKey(branch: string, cseqMethod: string): string {
  return `${branch}\u0000${cseqMethod}`;
}

/**
 * Server transaction key (17.2.3): branch + sent-by + method, where ACK matches the INVITE.
 * Returns undefined for a pre-RFC 3261 branch (without the cookie): such requests are served
 * statelessly matched on their whole Via instead, see `legacyServerKey`.
 */
export function serverKey(via: Via, method: string): string | undefined {
  const branch = via.params.branch;
  if (typeof branch !== 'string' || !branch.startsWith(MAGIC_COOKIE)) return undefined;
  const m = method === 'ACK' ? 'INVITE' : method;
  return `${branch}\u0000${via.host.toLowerCase()}:${via.port ?? ''}\u0000${m}`;
}

/**
 * RFC 2543 fallback matching (17.2.3, last paragraph), reduced to what this server needs:
 * the top Via value, Call-ID, CSeq number and method (ACK as INVITE).
 */
export function legacyServerKey(topVia: string, callId: string, cseq: number, method: string): string {
  const m = method === 'ACK' ? 'INVITE' : method;
  return `legacy\u0000${topVia}\u0000${callId}\u0000${cseq}\u0000${m}`;
}

/** A size-limited map of live transactions; `add` refuses when full (the caller answers 503). */
export class TransactionTable<T> {
  private readonly map = new Map<string, T>();
  constructor(readonly maxSize: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): T | undefined {
    return this.map.get(key);
  }

  /** Adds `value` under `key`; false when the table is full or the key is taken. */
  add(key: string, value: T): boolean {
    if (this.map.size >= this.maxSize || this.map.has(key)) return false;
    this.map.set(key, value);
    return true;
  }

  /** Replaces the value of a present `key` (a transaction changing form); false if absent. */
  replace(key: string, value: T): boolean {
    if (!this.map.has(key)) return false;
    this.map.set(key, value);
    return true;
  }

  /** Removes `key` only if it still maps to `value` (a new transaction may reuse a key). */
  delete(key: string, value?: T): void {
    if (value === undefined || this.map.get(key) === value) this.map.delete(key);
  }

  values(): IterableIterator<T> {
    return this.map.values();
  }

  clear(): void {
    this.map.clear();
  }
}
