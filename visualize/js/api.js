// The read-only HTTP API of Parley's visualizer, and its live event stream.

async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error(body?.error?.message ?? res.statusText), { status: res.status });
  return body;
}

const enc = encodeURIComponent;

/** @returns {Promise<{kinds: Array<{name: string, version: number, chart: any}>}>} */
export const fetchKinds = () => getJson('/api/kinds');

/** One page of actors: `{ items, next, scanned, now }`. */
export function fetchActors({ kind, q, state, after, limit = 200 }) {
  const p = new URLSearchParams();
  if (kind) p.set('kind', kind);
  if (q) p.set('q', q);
  if (state) p.set('state', state);
  if (after) p.set('after', after);
  p.set('limit', String(limit));
  return getJson(`/api/actors?${p}`);
}

export const fetchActor = (kind, key) => getJson(`/api/actors/${enc(kind)}/${enc(key)}`);
export const fetchEvents = (kind, key) => getJson(`/api/actors/${enc(kind)}/${enc(key)}/events`);

/**
 * Opens the brief live stream. `onRecord(record)` for each inspection record, `onLost(n)`
 * when records were dropped (the view should reload), `onStatus('live'|'down')`.
 * EventSource reconnects by itself; a reconnect is treated like a loss.
 */
export function openStream({ onRecord, onLost, onStatus }) {
  const es = new EventSource('/api/stream?brief=1');
  let opened = false;
  es.addEventListener('hello', () => {
    if (opened) onLost(0);
    opened = true;
    onStatus('live');
  });
  es.addEventListener('dropped', (e) => onLost(JSON.parse(e.data).dropped));
  es.onmessage = (e) => onRecord(JSON.parse(e.data));
  es.onerror = () => onStatus('down');
  return es;
}
