/**
 * The visualizer's routes (read-only): the JSON API under `/api`, the live event stream, the
 * page under `/visualize/` and elkjs's browser bundle. Generic over actor kinds: whatever
 * kinds the supervisor runs are listed and charted.
 *
 *   GET /api/kinds                      kinds with their statecharts
 *   GET /api/actors?kind=&q=&state=&after=&limit=   one page of actors
 *   GET /api/actors/:kind/:key          state, context, timers, recent events (summary)
 *   GET /api/actors/:kind/:key/events?after=seq     recent events with before/after
 *   GET /api/stream?kind=&key=&brief=1  server-sent inspection records
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../clock.js';
import type { ActorIndex, IndexedRecord, TimelineEntry } from '../../actors/actorIndex.js';
import type { ActorKind } from '../../actors/kind.js';
import type { Supervisor } from '../../actors/supervisor.js';
import { listActors, summaryOf } from './actorListing.js';
import { HttpError, intParam, safeStringify, sendJson } from './respond.js';
import type { Route } from './router.js';
import { openSse } from './sse.js';
import { activeIds, statechartOf, statePaths, type ChartNode } from './statechart.js';
import { singleFile, staticFiles } from './staticFiles.js';

export interface VisualizerOptions {
  readonly supervisor: Supervisor;
  readonly kinds: readonly ActorKind[];
  /** The index fed by `supervisor.inspection` (timelines, stopped actors, live fan-out). */
  readonly index: ActorIndex;
  /** The runtime's clock: due times and "now" on the page come from it. */
  readonly clock: Clock;
  /** Directory of the page; default `visualize/` of the repository. */
  readonly pageDir?: string;
  /** Messages an event-stream client may fall behind by before losing some; default 1,000. */
  readonly streamQueueLimit?: number;
  /** Records examined per list request at most; default 20,000. */
  readonly scanBudget?: number;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The routes to give `createHttpServer` (or `addRoutes`). */
export function visualizerRoutes(opts: VisualizerOptions): Route[] {
  const { supervisor, index, clock } = opts;
  const kinds = new Map(opts.kinds.map((k) => [k.name, k]));
  // Charts are derived once: machines do not change while the process runs.
  const charts = new Map<string, ChartNode>(opts.kinds.map((k) => [k.name, statechartOf(k.machine)]));
  const kindOf = (name: string) => {
    const k = kinds.get(name);
    if (k === undefined) throw new HttpError(404, `unknown actor kind ${name}`);
    return k;
  };
  const elkBundle = createRequire(import.meta.url).resolve('elkjs/lib/elk.bundled.js');

  return [
    {
      method: 'GET',
      path: '/',
      handler: (_req, res) => {
        res.writeHead(302, { location: '/visualize/' });
        res.end();
      },
    },
    { method: 'GET', path: '/visualize/*', handler: staticFiles(opts.pageDir ?? join(repoRoot, 'visualize')) },
    { method: 'GET', path: '/vendor/elk.bundled.js', handler: singleFile(elkBundle) },
    {
      method: 'GET',
      path: '/api/kinds',
      handler: (_req, res) => {
        sendJson(res, 200, { kinds: opts.kinds.map((k) => ({ name: k.name, version: k.version, chart: charts.get(k.name) })) });
      },
    },
    {
      method: 'GET',
      path: '/api/actors',
      handler: (_req, res, { query }) => {
        const kind = query.get('kind') || undefined;
        if (kind !== undefined) kindOf(kind);
        const page = listActors(supervisor, kinds, {
          kind,
          q: query.get('q') || undefined,
          state: query.get('state') || undefined,
          after: parseCursor(query.get('after')),
          limit: intParam(query, 'limit', 100, 1, 1000),
          scanBudget: opts.scanBudget ?? 20_000,
        });
        sendJson(res, 200, { now: clock.now(), ...page, next: page.next && JSON.stringify(page.next) });
      },
    },
    {
      method: 'GET',
      path: '/api/actors/:kind/:key',
      handler: (_req, res, { params }) => {
        const kind = kindOf(params.kind);
        const live = supervisor.peek(kind.name, params.key);
        const stopped = live === undefined ? index.stopped(kind.name, params.key) : undefined;
        if (live === undefined && stopped === undefined) throw new HttpError(404, `no actor ${kind.name} ${params.key}`);
        const value = live ? live.value : stopped?.state?.value;
        const context = live ? live.context : stopped?.state?.context;
        const timers = Object.entries(live?.timers ?? {})
          .map(([id, t]) => ({ id, due: t.due, event: t.event }))
          .sort((a, b) => a.due - b.due);
        sendJson(res, 200, {
          now: clock.now(),
          kind: kind.name,
          key: params.key,
          status: live ? 'active' : 'stopped',
          stopped: stopped && { at: stopped.at, reason: stopped.reason },
          resident: supervisor.isResident(kind.name, params.key),
          value,
          state: statePaths(value).join(', '),
          active: activeIds(charts.get(kind.name)!, value),
          summary: live ? summaryOf(kind, context) : '',
          context,
          timers,
          lastEventAt: live?.lastEventAt ?? stopped?.at,
          events: index.recent(kind.name, params.key).map(brief),
        });
      },
    },
    {
      method: 'GET',
      path: '/api/actors/:kind/:key/events',
      handler: (_req, res, { params, query }) => {
        const kind = kindOf(params.kind);
        const after = intParam(query, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
        const events = index.recent(kind.name, params.key).filter((e) => e.seq > after);
        sendJson(res, 200, { now: clock.now(), events });
      },
    },
    {
      method: 'GET',
      path: '/api/stream',
      handler: (req, res, { query }) => {
        const kind = query.get('kind') || undefined;
        const key = query.get('key') || undefined;
        const short = query.get('brief') === '1';
        const channel = openSse(req, res, { queueLimit: opts.streamQueueLimit });
        channel.send(JSON.stringify({ seq: index.lastSeq, now: clock.now() }), 'hello');
        const unlisten = index.listen({
          record: (r) => {
            if ((kind !== undefined && r.record.kind !== kind) || (key !== undefined && r.record.key !== key)) return;
            channel.send(safeStringify(short ? briefRecord(r, kinds) : { seq: r.seq, ...r.record }));
          },
          lost: (n) => channel.reportLost(n),
        });
        channel.onClose(unlisten);
      },
    },
  ];
}

/** `["room","sip:a@b"]` -> tuple; anything else is a 400. */
function parseCursor(raw: string | null): readonly [string, string] | undefined {
  if (raw === null || raw === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') {
    throw new HttpError(400, 'after must be a cursor returned as next');
  }
  return [v[0], v[1]];
}

/** A timeline entry without its snapshots (the detail view fetches those on demand). */
function brief(e: TimelineEntry): Pick<TimelineEntry, 'seq' | 'at' | 'kind' | 'type' | 'value' | 'error'> {
  return { seq: e.seq, at: e.at, kind: e.kind, type: e.type, value: e.value, error: e.error };
}

/** What the actor list needs from a record: no contexts, a summary instead. */
function briefRecord({ seq, record: r }: IndexedRecord, kinds: ReadonlyMap<string, ActorKind>): Record<string, unknown> {
  const base = { seq, type: r.type, kind: r.kind, key: r.key, at: r.at };
  if (r.type === 'actor.event') return { ...base, event: (r.event as { type?: string }).type, value: r.after.value, status: r.after.status, summary: summaryOf(kinds.get(r.kind), r.after.context) };
  if (r.type === 'actor.created') return { ...base, value: r.state.value, status: r.state.status, summary: summaryOf(kinds.get(r.kind), r.state.context) };
  if (r.type === 'timer.armed' || r.type === 'timer.fired') return { ...base, timerId: r.timerId, due: r.due };
  if (r.type === 'timer.cancelled') return { ...base, timerId: r.timerId };
  if (r.type === 'actor.stopped') return { ...base, reason: r.reason };
  return base;
}
