/**
 * What the visualizer remembers beyond LMDB: for each recently active actor, a ring buffer
 * of its last events with the state before and after each, and the state it stopped in
 * (a closed room is deleted from LMDB, yet its page should still show `closed`).
 *
 * It is the one subscriber of the inspection stream on the visualizer's behalf: records get
 * a sequence number here and are fanned out to listeners (the event-stream clients), so a
 * page can merge a fetched timeline with live records without duplicates. Memory is bounded:
 * `perActor` entries for at most `maxActors` actors, least recently active forgotten first.
 * Snapshots are kept by reference (xstate contexts are immutable), not copied; events and
 * effects as bounded previews (`preview.ts`), since they may carry whole message bodies; its
 * listeners get the same bounded records.
 */
import { preview } from './preview.js';
import type { InspectionRecord, InspectionStream, StateView, Subscription } from './inspection.js';

/** One line of an actor's timeline. */
export interface TimelineEntry {
  /** Sequence number of the record, shared with the live stream (`IndexedRecord.seq`). */
  readonly seq: number;
  readonly at: number;
  /** `event` (the machine took an event), `error`, or a lifecycle step. */
  readonly kind: 'event' | 'error' | 'created' | 'restored' | 'passivated' | 'stopped';
  /** The event's type for `event`/`error`, else the lifecycle step or stop reason. */
  readonly type: string;
  /** The state value reached (`event`, `created`, `restored`). */
  readonly value?: unknown;
  readonly event?: unknown;
  readonly before?: StateView;
  readonly after?: StateView;
  readonly effects?: readonly unknown[];
  readonly error?: string;
}

/** An inspection record with its sequence number. */
export interface IndexedRecord {
  readonly seq: number;
  readonly record: InspectionRecord;
}

/** Receives every indexed record, and the number of records the index itself lost. */
export interface IndexListener {
  record(r: IndexedRecord): void;
  lost(n: number): void;
}

export interface ActorIndexOptions {
  /** Timeline entries kept per actor; default 50. */
  readonly perActor?: number;
  /** Actors remembered; default 10,000. */
  readonly maxActors?: number;
  /** Queue limit of the inspection subscription; default 10,000. */
  readonly queueLimit?: number;
}

interface Entry {
  readonly timeline: TimelineEntry[];
  /** The state the actor stopped in (it is no longer in LMDB). */
  stopped?: { readonly at: number; readonly reason: string; readonly state: StateView | undefined };
  last: StateView | undefined;
}

const idOf = (kind: string, key: string) => `${kind}\u0000${key}`;

export class ActorIndex {
  private readonly actors = new Map<string, Entry>();
  private readonly listeners = new Set<IndexListener>();
  private readonly sub: Subscription;
  private readonly perActor: number;
  private readonly maxActors: number;
  private seq = 0;
  private seenDropped = 0;

  constructor(stream: InspectionStream, opts: ActorIndexOptions = {}) {
    this.perActor = Math.max(1, opts.perActor ?? 50);
    this.maxActors = Math.max(1, opts.maxActors ?? 10_000);
    this.sub = stream.subscribe((r) => this.take(r), opts.queueLimit ?? 10_000);
  }

  /** Records lost by this index because the runtime outran it. */
  get dropped(): number {
    return this.sub.dropped;
  }

  /** Sequence number of the last record taken. */
  get lastSeq(): number {
    return this.seq;
  }

  /** The actor's recent timeline, oldest first (empty when unknown). */
  recent(kind: string, key: string): readonly TimelineEntry[] {
    return this.actors.get(idOf(kind, key))?.timeline ?? [];
  }

  /** How the actor ended, when it stopped (final state reached or purged) after the index started. */
  stopped(kind: string, key: string): { readonly at: number; readonly reason: string; readonly state: StateView | undefined } | undefined {
    return this.actors.get(idOf(kind, key))?.stopped;
  }

  /** Calls `l` for every record from now on; returns the unsubscribe function. */
  listen(l: IndexListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  close(): void {
    this.sub.unsubscribe();
    this.listeners.clear();
  }

  private take(r: InspectionRecord): void {
    const lost = this.sub.dropped - this.seenDropped;
    if (lost > 0) {
      this.seenDropped += lost;
      for (const l of this.listeners) l.lost(lost);
    }
    const seq = ++this.seq;
    const record = bounded(r);
    const line = timelineOf(seq, record);
    if (line !== undefined || record.type === 'actor.stopped') this.remember(record, line);
    const indexed = { seq, record };
    for (const l of this.listeners) {
      try {
        l.record(indexed);
      } catch {
        // A broken listener (a closed socket mid-write) must not starve the others.
        this.listeners.delete(l);
      }
    }
  }

  private remember(r: InspectionRecord, line: TimelineEntry | undefined): void {
    const id = idOf(r.kind, r.key);
    let e = this.actors.get(id);
    if (e) this.actors.delete(id); // re-insert: the Map's order is the LRU order
    else e = { timeline: [], last: undefined };
    this.actors.set(id, e);
    if (this.actors.size > this.maxActors) this.actors.delete(this.actors.keys().next().value as string);
    if (line) {
      e.timeline.push(line);
      if (e.timeline.length > this.perActor) e.timeline.shift();
    }
    if (r.type === 'actor.event') e.last = r.after;
    else if (r.type === 'actor.created') {
      e.last = r.state;
      e.stopped = undefined;
    } else if (r.type === 'actor.stopped') e.stopped = { at: r.at, reason: r.reason, state: e.last };
  }
}

/**
 * `r` with its event and effects as bounded previews: what the index keeps and what its
 * listeners (the visualizer's live stream) get.
 */
function bounded(r: InspectionRecord): InspectionRecord {
  if (r.type === 'actor.event') return { ...r, event: preview(r.event), effects: preview(r.effects) as unknown[] };
  if (r.type === 'actor.error') return { ...r, event: preview(r.event) };
  return r;
}

function timelineOf(seq: number, r: InspectionRecord): TimelineEntry | undefined {
  switch (r.type) {
    case 'actor.event':
      return { seq, at: r.at, kind: 'event', type: eventType(r.event), value: r.after.value, event: r.event, before: r.before, after: r.after, effects: r.effects };
    case 'actor.error':
      return { seq, at: r.at, kind: 'error', type: eventType(r.event), event: r.event, error: r.error };
    case 'actor.created':
      return { seq, at: r.at, kind: r.restored ? 'restored' : 'created', type: r.restored ? 'restored' : 'created', value: r.state.value, after: r.state };
    case 'actor.passivated':
      return { seq, at: r.at, kind: 'passivated', type: 'passivated' };
    case 'actor.stopped':
      return { seq, at: r.at, kind: 'stopped', type: r.reason };
    default:
      // Timer records show in the timers list; the event a timer delivers is its own entry.
      return undefined;
  }
}

function eventType(e: unknown): string {
  const t = (e as { type?: unknown } | null)?.type;
  return typeof t === 'string' ? t : '?';
}
