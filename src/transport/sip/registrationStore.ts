/**
 * Registrations (RFC 3261 10.3) in LMDB. The caller opens the database
 * (`env.openDB({ name: 'registrations' })`); keys are `[aor, contactUri]` tuples so one range
 * read returns an AoR's bindings (PACKAGES.md: keep one type per tuple position).
 */
import type { Database, Key } from 'lmdb';
import type { SipEndpoint } from './transport.js';

/** A contact of an AoR, as published to the applications. */
export interface RegisteredContact {
  /** The Contact URI. */
  readonly uri: string;
  /** Absolute expiry, ms since the epoch (undefined when the source did not say). */
  readonly expiresAt?: number;
  /** Path header values (RFC 3327), used as the route set towards this contact. */
  readonly path: readonly string[];
}

/** One stored binding. */
export interface Binding extends RegisteredContact {
  readonly aor: string;
  readonly expiresAt: number;
  readonly callId: string;
  readonly cseq: number;
  /** `q` parameter as written, if any. */
  readonly q?: string;
  /** Where the REGISTER came from. */
  readonly source?: SipEndpoint;
  readonly registeredAt: number;
}

/** Write access inside one transaction. */
export interface BindingWriter {
  list(aor: string): Binding[];
  put(binding: Binding): void;
  remove(aor: string, uri: string): void;
}

/** The registrations database. Reads are synchronous (LMDB), writes are one transaction each. */
export class RegistrationStore {
  constructor(private readonly db: Database<Binding, Key>) {}

  /** The bindings of `aor`, in contact order (expired ones included; the registrar filters). */
  list(aor: string): Binding[] {
    const out: Binding[] = [];
    for (const { key, value } of this.db.getRange({ start: [aor] })) {
      if (!Array.isArray(key) || key[0] !== aor) break;
      out.push(value);
    }
    return out;
  }

  /** Every binding (for re-arming expiry timers at start-up). */
  all(): Binding[] {
    const out: Binding[] = [];
    for (const { value } of this.db.getRange({})) out.push(value);
    return out;
  }

  /**
   * Runs `fn` inside one write transaction: its reads see a consistent state and its writes
   * commit together, so concurrent REGISTERs for one AoR cannot interleave (RFC 3261 10.3: the
   * bindings update is atomic). Resolves once committed.
   */
  transact<T>(fn: (w: BindingWriter) => T): Promise<T> {
    return this.db.transaction(() =>
      fn({
        list: (aor) => this.list(aor),
        put: (b) => this.db.putSync([b.aor, b.uri], b),
        remove: (aor, uri) => void this.db.removeSync([aor, uri]),
      }),
    );
  }
}
