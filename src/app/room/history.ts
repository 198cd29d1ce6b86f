/**
 * Room history in its own LMDB database, keyed `[room, seq]`, written inside the event's
 * commit through `storeWrites` (issue 5 item 9). The sequence number is assigned here, from a
 * per-room counter read once from the database, so that a relayed message changes nothing in
 * the room's snapshot and the runtime does not rewrite it (a 100-participant room's snapshot
 * is tens of KB; a history row is one message).
 *
 * A counter that ran ahead of a failed commit leaves a gap in the sequence, which readers do
 * not mind: they read ranges.
 */
import type { Database } from 'lmdb';
import type { Store, Write } from '../../actors/store.js';
import type { RoomMessage } from '../../machines/effects.js';

/** A stored message: what was relayed, plus its sequence number in the room. */
export interface StoredRoomMessage extends RoomMessage {
  readonly seq: number;
}

type HistoryKey = [room: string, seq: number];

/** Rooms whose next sequence number is cached. */
const MAX_CACHED_ROOMS = 100_000;

/** Rows removed per append beyond the one that falls out (a lowered history size catches up). */
const TRIM_BATCH = 16;

export class RoomHistory {
  readonly db: Database<StoredRoomMessage, HistoryKey>;
  private readonly nextSeq = new Map<string, number>();

  constructor(store: Store) {
    this.db = store.openDB<StoredRoomMessage, HistoryKey>('roomHistory');
  }

  /** The writes that append `message` and drop what falls beyond the newest `limit`. */
  appendWrites(room: string, limit: number, message: RoomMessage): Write[] {
    const seq = this.next(room);
    const writes: Write[] = [{ db: this.db, key: [room, seq], value: { ...message, seq } }];
    const keepFrom = seq - limit + 1;
    if (keepFrom > 1) {
      for (const key of this.db.getKeys({ start: [room, 0], end: [room, keepFrom], limit: TRIM_BATCH })) {
        writes.push({ db: this.db, key, remove: true });
      }
    }
    return writes;
  }

  /** The writes that remove every message of the room (room deleted, ad-hoc room ended). */
  clearWrites(room: string): Write[] {
    this.nextSeq.delete(room);
    const writes: Write[] = [];
    for (const key of this.db.getKeys({ start: [room, 0], end: [room, Number.MAX_SAFE_INTEGER] })) writes.push({ db: this.db, key, remove: true });
    return writes;
  }

  /** The newest `n` messages of the room, oldest first. */
  latest(room: string, n: number): StoredRoomMessage[] {
    if (n <= 0) return [];
    const out: StoredRoomMessage[] = [];
    for (const { value } of this.db.getRange({ start: [room, Number.MAX_SAFE_INTEGER], end: [room, 0], reverse: true, limit: n })) out.push(value);
    return out.reverse();
  }

  /** Number of stored messages of the room (admin, tests). */
  count(room: string): number {
    return this.db.getKeysCount({ start: [room, 0], end: [room, Number.MAX_SAFE_INTEGER] });
  }

  private next(room: string): number {
    let n = this.nextSeq.get(room);
    if (n === undefined) {
      n = 1;
      for (const key of this.db.getKeys({ start: [room, Number.MAX_SAFE_INTEGER], end: [room, 0], reverse: true, limit: 1 })) n = key[1] + 1;
    }
    // A cache (the database has the truth): bounded by forgetting it all, rarely.
    if (this.nextSeq.size >= MAX_CACHED_ROOMS) this.nextSeq.clear();
    this.nextSeq.set(room, n + 1);
    return n;
  }
}
