/**
 * Server-side paging over every persisted actor (LMDB, in key order), with the fresher
 * in-memory state for resident ones. Filters are applied while scanning, and one request
 * scans at most `scanBudget` records: a selective filter over 100,000 actors answers a
 * partial page with a cursor instead of holding the event loop (the page asks again).
 */
import type { ActorKind } from '../../actors/kind.js';
import type { Supervisor } from '../../actors/supervisor.js';
import type { TimerEntry } from '../../actors/store.js';
import { statePaths } from './statechart.js';

/** One row of the actor list. */
export interface ActorRow {
  readonly kind: string;
  readonly key: string;
  /** Active leaf states as dotted paths, comma-separated (`open`, `p.r1.x, p.r2.u`). */
  readonly state: string;
  readonly value: unknown;
  readonly summary: string;
  /** Pending durable timers and the earliest due time. */
  readonly timers: number;
  readonly nextDue: number | null;
  readonly lastEventAt: number;
  readonly resident: boolean;
}

export interface ListQuery {
  readonly kind?: string;
  /** Case-insensitive substring of the key. */
  readonly q?: string;
  /** A state path: matches actors in that state or in one of its descendants. */
  readonly state?: string;
  /** Resume after this actor (the previous page's `next`). */
  readonly after?: readonly [string, string];
  readonly limit: number;
  readonly scanBudget: number;
}

export interface ListPage {
  readonly items: readonly ActorRow[];
  /** Cursor for the next page, or null when the scan reached the end. */
  readonly next: readonly [string, string] | null;
  /** Records examined for this page. */
  readonly scanned: number;
}

/** Reads one page; `kinds` gives each kind's summary function. */
export function listActors(supervisor: Supervisor, kinds: ReadonlyMap<string, ActorKind>, query: ListQuery): ListPage {
  const q = query.q?.toLowerCase();
  const items: ActorRow[] = [];
  let scanned = 0;
  let last: [string, string] | undefined;
  const it = supervisor.listPersisted({ kind: query.kind, after: query.after });
  for (let step = it.next(); !step.done; step = it.next()) {
    const { kind, key, record } = step.value;
    if (items.length >= query.limit || scanned >= query.scanBudget) {
      // One more record exists: the page is not the last.
      it.return(undefined);
      return { items, next: last ?? null, scanned };
    }
    scanned++;
    last = [kind, key];
    if (q !== undefined && !key.toLowerCase().includes(q)) continue;
    const live = supervisor.isResident(kind, key) ? supervisor.peek(kind, key) : undefined;
    const value = live?.value ?? record.value;
    const paths = statePaths(value);
    if (query.state !== undefined && !paths.some((p) => p === query.state || p.startsWith(`${query.state}.`))) continue;
    items.push(rowOf(kinds.get(kind), kind, key, value, live?.context ?? record.context, live?.timers ?? record.timers, live?.lastEventAt ?? record.lastEventAt, live !== undefined));
  }
  return { items, next: null, scanned };
}

/** Builds a row; exported for the live stream's brief records. */
export function rowOf(
  kind: ActorKind | undefined,
  kindName: string,
  key: string,
  value: unknown,
  context: unknown,
  timers: Readonly<Record<string, TimerEntry>>,
  lastEventAt: number,
  resident: boolean,
): ActorRow {
  const dues = Object.values(timers).map((t) => t.due);
  return {
    kind: kindName,
    key,
    state: statePaths(value).join(', '),
    value,
    summary: summaryOf(kind, context),
    timers: dues.length,
    nextDue: dues.length === 0 ? null : Math.min(...dues),
    lastEventAt,
    resident,
  };
}

/** The kind's one-line summary; a throwing summary must not break the list. */
export function summaryOf(kind: ActorKind | undefined, context: unknown): string {
  if (kind?.summary === undefined) return '';
  try {
    return kind.summary(context);
  } catch {
    return '(summary failed)';
  }
}
