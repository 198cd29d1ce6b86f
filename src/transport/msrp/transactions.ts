import type { Clock, TimerHandle } from '../../clock.js';
import type { MsrpResponse } from './message.js';

/** Default time to wait for a response (RFC 4975 section 7.1.1 suggests 30 s). */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 30_000;

/**
 * Outcome of an outgoing transaction. `reason` is set when the status was made up
 * locally: 408 on timeout (RFC 4975 section 7.1.1: treat as a 408 response), 0 when the
 * connection went away or the session closed first.
 */
export interface TransactionResult {
  readonly status: number;
  readonly comment?: string;
  readonly reason?: 'timeout' | 'connection-lost' | 'closed' | 'not-connected' | 'overload';
}

interface Pending {
  readonly onResult: (r: TransactionResult) => void;
  readonly timer: TimerHandle | undefined;
}

/** Outgoing transactions of one connection awaiting their responses, each with a deadline. */
export class TransactionTable {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number = DEFAULT_RESPONSE_TIMEOUT_MS,
    private readonly max: number = 4096,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Registers a transaction; false (and no registration) when the table is full. */
  start(txId: string, onResult: (r: TransactionResult) => void): boolean {
    if (this.pending.size >= this.max) return false;
    const timer =
      this.timeoutMs > 0
        ? this.clock.setTimeout(() => {
            if (this.pending.delete(txId)) onResult({ status: 408, comment: 'Request Timeout', reason: 'timeout' });
          }, this.timeoutMs)
        : undefined;
    this.pending.set(txId, { onResult, timer });
    return true;
  }

  /** Delivers a response to its transaction; false when no transaction has that id. */
  resolve(resp: MsrpResponse): boolean {
    const p = this.pending.get(resp.txId);
    if (p === undefined) return false;
    this.pending.delete(resp.txId);
    if (p.timer !== undefined) this.clock.clearTimeout(p.timer);
    p.onResult({ status: resp.status, comment: resp.comment });
    return true;
  }

  /** Fails every pending transaction with status 0 and the reason. */
  failAll(reason: 'connection-lost' | 'closed'): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) {
      if (p.timer !== undefined) this.clock.clearTimeout(p.timer);
      p.onResult({ status: 0, reason });
    }
  }
}
