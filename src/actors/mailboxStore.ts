/**
 * The mailbox's LMDB data: the `messages` database (key `[aor, seq]`: one range read serves a
 * user's mailbox in arrival order), the duplicate-suppression index `messageIds`
 * (`[aor, key]` -> seq) and the global msilo counters `mailboxStats`. `storeWrites` turns the
 * mailbox machine's `store.*` effects into writes committed with its snapshot; the rest are
 * reads for the effect executor and the admin functions.
 */
import type { Database } from 'lmdb';
import type { ActorRef, Effect } from './effects.js';
import type { Store, Write } from './store.js';
import type { MailboxStatsDelta, StoredMessage } from '../machines/mailboxEffects.js';
import type { BatchEntry } from '../machines/mailboxTypes.js';

/** msilo's statistics (names as msilo's). */
export interface MsiloStats {
  stored_messages: number;
  dumped_messages: number;
  failed_messages: number;
  dumped_reminders: number;
  failed_reminders: number;
}

const zeroStats = (): MsiloStats => ({ stored_messages: 0, dumped_messages: 0, failed_messages: 0, dumped_reminders: 0, failed_reminders: 0 });
const STATS_KEY = ['msilo'];

/**
 * The stored messages being sent right now, by either path that sends them: the mailbox's
 * MESSAGE delivery (src/app/mailbox/executor.ts) and a fetch over MSRP (src/app/offline/fetch.ts).
 * Each path claims a message before it reads and sends it, and releases it once what the
 * outcome changed (deleted, marked read) is committed: the other path then skips it, or reads
 * the outcome, and no message reaches the user twice.
 */
export class SendingNow {
  private readonly held = new Set<string>();

  /** False when the other path (or another fetch) is sending it now. */
  claim(aor: string, seq: number): boolean {
    const k = `${seq}\u0000${aor}`;
    if (this.held.has(k)) return false;
    this.held.add(k);
    return true;
  }

  release(aor: string, seq: number): void {
    this.held.delete(`${seq}\u0000${aor}`);
  }
}

export class MailboxStore {
  /** Who sends which message now (in memory: a restart ends every send). */
  readonly sending = new SendingNow();
  readonly messages: Database<StoredMessage, [string, number]>;
  readonly ids: Database<number, [string, string]>;
  private readonly statsDb: Database<MsiloStats, string[]>;
  /**
   * Counters are kept in memory and written whole: several events of one group commit would
   * otherwise each read the same committed value and lose increments. A failed commit leaves
   * the memory ahead by that event's counts (the counters are statistics, not data).
   */
  private readonly counters: MsiloStats;

  constructor(store: Store) {
    this.messages = store.openDB<StoredMessage, [string, number]>('messages');
    this.ids = store.openDB<number, [string, string]>('messageIds');
    this.statsDb = store.openDB<MsiloStats, string[]>('mailboxStats');
    this.counters = { ...zeroStats(), ...(this.statsDb.get(STATS_KEY) ?? {}) };
  }

  /** `EffectHandlers.storeWrites` for the mailbox's `store.*` effects. */
  storeWrites(effect: Effect, _actor?: ActorRef): Write[] {
    switch (effect.type) {
      case 'store.putMessage': {
        const { aor, message } = effect as unknown as { aor: string; message: StoredMessage };
        const writes: Write[] = [{ db: this.messages, key: [aor, message.seq], value: message }];
        for (const k of message.dedupKeys) writes.push({ db: this.ids, key: [aor, k], value: message.seq });
        return writes;
      }
      case 'store.deleteMessages': {
        const { aor, seqs } = effect as unknown as { aor: string; seqs: readonly number[] };
        const writes: Write[] = [];
        for (const seq of seqs) {
          const m = this.messages.get([aor, seq]);
          writes.push({ db: this.messages, key: [aor, seq], remove: true });
          for (const k of m?.dedupKeys ?? []) writes.push({ db: this.ids, key: [aor, k], remove: true });
        }
        return writes;
      }
      case 'store.markRead': {
        const { aor, seqs } = effect as unknown as { aor: string; seqs: readonly number[] };
        const writes: Write[] = [];
        for (const seq of seqs) {
          const m = this.messages.get([aor, seq]);
          if (m !== undefined && m.read !== true) writes.push({ db: this.messages, key: [aor, seq], value: { ...m, read: true } });
        }
        return writes;
      }
      case 'store.addStats': {
        const delta = (effect as unknown as { delta: MailboxStatsDelta }).delta;
        for (const [k, v] of Object.entries(delta)) this.counters[k as keyof MsiloStats] += v ?? 0;
        return [{ db: this.statsDb, key: STATS_KEY, value: { ...this.counters } }];
      }
      default:
        throw new Error(`mailbox store: unknown effect ${effect.type}`);
    }
  }

  /** The counters (a copy). */
  stats(): MsiloStats {
    return { ...this.counters };
  }

  /** True when a committed message of `aor` carries one of `keys`. */
  isDuplicate(aor: string, keys: readonly string[]): boolean {
    for (let i = 0; i < keys.length; i++) if (this.ids.get([aor, keys[i] as string]) !== undefined) return true;
    return false;
  }

  get(aor: string, seq: number): StoredMessage | undefined {
    return this.messages.get([aor, seq]);
  }

  /** Messages of `aor` with seq > `after`, in order, at most `limit`. */
  list(aor: string, after = 0, limit = 100): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const { value } of this.messages.getRange({ start: [aor, after + 1], end: [aor, Number.MAX_SAFE_INTEGER], limit })) out.push(value);
    return out;
  }

  /** Answer to `mailbox.loadBatch`: one extra row read tells whether the mailbox ends here. */
  batch(aor: string, after: number, limit: number): { entries: BatchEntry[]; exhausted: boolean } {
    const rows = this.list(aor, after, limit + 1);
    const entries = rows.slice(0, limit).map((m) => ({
      seq: m.seq,
      expiresAt: m.expiresAt,
      ...(m.sendAt !== undefined ? { sendAt: m.sendAt } : {}),
      ...(m.session !== undefined ? { session: true as const } : {}),
      ...(m.read === true ? { read: true as const } : {}),
    }));
    return { entries, exhausted: rows.length <= limit };
  }

  /** Answer to `mailbox.sweep`: expired seqs (at most `limit`), and the next expiry and send times. */
  sweep(aor: string, now: number, limit: number): { expired: number[]; more: boolean; nextExpiresAt: number | null; nextSendAt: number | null } {
    const expired: number[] = [];
    let more = false;
    let nextExpiresAt: number | null = null;
    let nextSendAt: number | null = null;
    for (const { value: m } of this.messages.getRange({ start: [aor, 0], end: [aor, Number.MAX_SAFE_INTEGER] })) {
      if (m.expiresAt <= now) {
        if (expired.length < limit) expired.push(m.seq);
        else more = true;
        continue;
      }
      nextExpiresAt = nextExpiresAt === null ? m.expiresAt : Math.min(nextExpiresAt, m.expiresAt);
      if (m.sendAt !== undefined && m.sendAt > now) nextSendAt = nextSendAt === null ? m.sendAt : Math.min(nextSendAt, m.sendAt);
    }
    return { expired, more, nextExpiresAt, nextSendAt };
  }

  /** New (unread) and old (fetched) messages of `aor`, for message-waiting (at most `maxScan` rows read). */
  summary(aor: string, maxScan = 10_000): { newCount: number; oldCount: number } {
    let newCount = 0;
    let oldCount = 0;
    for (const { value } of this.messages.getRange({ start: [aor, 0], end: [aor, Number.MAX_SAFE_INTEGER], limit: maxScan })) {
      if (value.read === true) oldCount++;
      else newCount++;
    }
    return { newCount, oldCount };
  }

  /** Number of stored messages of `aor` (a range count). */
  count(aor: string): number {
    return this.messages.getKeysCount({ start: [aor, 0], end: [aor, Number.MAX_SAFE_INTEGER] });
  }

  /** Writes removing everything of `aor` (for `Supervisor.purge`). */
  purgeWrites(aor: string): Write[] {
    const writes: Write[] = [];
    for (const { key } of this.ids.getRange({ start: [aor, ''], end: [aor, '\uffff'] })) writes.push({ db: this.ids, key, remove: true });
    for (const key of this.messages.getKeys({ start: [aor, 0], end: [aor, Number.MAX_SAFE_INTEGER] })) writes.push({ db: this.messages, key, remove: true });
    return writes;
  }

  /** AoRs with stored messages, in order (admin listing), after `afterAor`. */
  *aors(afterAor?: string): Generator<string> {
    let last: string | undefined;
    const start = afterAor === undefined ? undefined : [afterAor, Number.MAX_SAFE_INTEGER];
    for (const key of this.messages.getKeys(start ? { start: start as never } : {})) {
      if (key[0] !== last) {
        last = key[0];
        if (last !== afterAor) yield last;
      }
    }
  }
}
