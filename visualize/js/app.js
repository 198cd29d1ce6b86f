// Parley's live statechart visualizer: wires the actor list, the chart, the timeline and the
// live stream together. Read-only: it only ever GETs. The selected actor is kept in the URL
// hash (`#room/sip%3Adev%40conf.example.com`) so a view can be shared or reloaded.
import { fetchActor, fetchEvents, fetchKinds, openStream } from './api.js';
import { ActorList } from './actorList.js';
import { activeIds, drawChart } from './chart.js';
import { el, stateText } from './format.js';
import { renderContext, renderSnapshots, renderTimeline, renderTimers } from './timeline.js';

const $ = (id) => document.getElementById(id);
const charts = new Map(); // kind name -> chart description
let selected = null; // { kind, key }
let drawn = null; // { kind, handle }
let drawing = null; // { kind, promise }: one layout per kind even when refreshes overlap
let detail = null; // last detail response
let picked = null; // seq of the event whose snapshots are shown
let refreshTimer = 0;

const list = new ActorList({ viewport: $('list'), foot: $('list-foot'), onSelect: (kind, key) => select(kind, key) });

async function init() {
  const { kinds } = await fetchKinds();
  for (const k of kinds) {
    charts.set(k.name, k.chart);
    $('kind').append(el('option', { value: k.name, text: k.name }));
  }
  let debounce = 0;
  const applyFilters = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => list.setFilters({ kind: $('kind').value, q: $('q').value.trim(), state: $('state').value.trim() }), 200);
  };
  $('filters').addEventListener('input', applyFilters);
  $('filters').addEventListener('submit', (e) => e.preventDefault());
  openStream({ onRecord, onLost, onStatus });
  await list.setFilters({ kind: '', q: '', state: '' });
  window.addEventListener('hashchange', fromHash);
  fromHash();
}

function fromHash() {
  const m = /^#([^/]+)\/(.+)$/.exec(location.hash);
  if (m) void select(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
}

async function select(kind, key) {
  const hash = `#${encodeURIComponent(kind)}/${encodeURIComponent(key)}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
  if (selected?.kind !== kind || selected?.key !== key) picked = null;
  selected = { kind, key };
  list.select(kind, key);
  $('empty').hidden = true;
  $('detail-body').hidden = false;
  await refresh();
}

/** Reloads the selected actor's detail and redraws what depends on it. */
async function refresh() {
  if (!selected) return;
  const { kind, key } = selected;
  let d;
  try {
    d = await fetchActor(kind, key);
  } catch (err) {
    $('d-kind').textContent = kind;
    $('d-key').textContent = key;
    $('d-state').textContent = err.status === 404 ? 'not found' : 'error';
    $('d-summary').textContent = err.message;
    return;
  }
  if (selected?.kind !== kind || selected?.key !== key) return;
  detail = d;
  $('d-kind').textContent = d.resident ? `${kind} · in memory` : `${kind} · ${d.status === 'stopped' ? `stopped (${d.stopped.reason})` : 'passivated'}`;
  $('d-key').textContent = key;
  $('d-state').textContent = d.state;
  $('d-state').dataset.status = d.status;
  $('d-summary').textContent = d.summary;
  if (drawn?.kind !== kind) {
    if (drawing?.kind !== kind) drawing = { kind, promise: drawChart(charts.get(kind)) };
    const handle = await drawing.promise;
    if (selected?.kind !== kind || selected?.key !== key) return;
    if (drawn?.kind !== kind) {
      $('chart').replaceChildren(handle.element);
      drawn = { kind, handle };
    }
  }
  drawn.handle.highlight(d.active);
  renderTimeline($('timeline'), d.events, { selectedSeq: picked, onPick: pick });
  renderTimers($('timers'), d.timers, d.now);
  if (picked === null) renderContext($('snapshot'), $('snap-title'), d.context);
}

async function pick(seq) {
  if (!selected) return;
  picked = seq;
  const { events } = await fetchEvents(selected.kind, selected.key);
  const entry = events.find((e) => e.seq === seq);
  for (const li of $('timeline').children) li.classList.toggle('selected', Number(li.dataset.seq) === seq);
  if (entry) renderSnapshots($('snapshot'), $('snap-title'), entry, unpick);
}

function unpick() {
  picked = null;
  for (const li of $('timeline').children) li.classList.remove('selected');
  if (detail) renderContext($('snapshot'), $('snap-title'), detail.context);
}

function onRecord(rec) {
  list.apply(rec);
  if (!selected || rec.kind !== selected.kind || rec.key !== selected.key) return;
  // Highlight at once from the record, then fetch the rest (timers, context, timeline).
  if (drawn?.kind === rec.kind && rec.value !== undefined) {
    drawn.handle.highlight(activeIds(charts.get(rec.kind), rec.value));
    $('d-state').textContent = stateText(rec.value);
  }
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => void refresh(), 60);
}

function onLost() {
  // Records were dropped (slow tab, reconnect): what is shown may be stale, reload it.
  void list.reload();
  void refresh();
}

function onStatus(state) {
  $('conn').dataset.state = state;
  $('conn').querySelector('span').textContent = state === 'live' ? 'live' : 'reconnecting';
}

init().catch((err) => {
  $('list-foot').textContent = `Could not start: ${err.message}`;
});
