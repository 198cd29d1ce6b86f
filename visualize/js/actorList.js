// The actor list: rows come page by page from the server (`next` cursors) and only the rows
// in view exist in the DOM, so 100,000 actors cost a few dozen elements. Live records update
// the loaded rows in place and insert new actors where the server's key order puts them.
import { fetchActors } from './api.js';
import { clockTime, el, stateText } from './format.js';

const ROW = 48; // px, fixed: the window of rendered rows is computed from scrollTop
const OVERSCAN = 6;
const PAGE = 200;

const cmp = (a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const idOf = (kind, key) => `${kind}\u0000${key}`;

export class ActorList {
  /** @param {{ viewport: HTMLElement, foot: HTMLElement, onSelect: (kind: string, key: string) => void }} opts */
  constructor({ viewport, foot, onSelect }) {
    this.viewport = viewport;
    this.spacer = viewport.querySelector('.spacer');
    this.foot = foot;
    this.onSelect = onSelect;
    this.rows = [];
    this.byId = new Map();
    this.filters = { kind: '', q: '', state: '' };
    this.next = null;
    this.loading = false;
    // Nothing to load until the first setFilters.
    this.complete = true;
    this.generation = 0;
    this.selected = '';
    this.rendered = '';
    viewport.addEventListener('scroll', () => this.schedule());
    new ResizeObserver(() => this.schedule()).observe(viewport);
  }

  /** Replaces the filters and reloads from the first page. */
  async setFilters(filters) {
    this.filters = { ...filters };
    this.generation++;
    this.rows = [];
    this.byId.clear();
    this.next = null;
    this.complete = false;
    // A load of the previous generation may still be in flight: it will discard its rows.
    this.loading = false;
    this.viewport.scrollTop = 0;
    this.render(true);
    await this.loadMore();
  }

  reload() {
    return this.setFilters(this.filters);
  }

  select(kind, key) {
    this.selected = idOf(kind, key);
    this.render(true);
  }

  async loadMore() {
    if (this.loading || this.complete) return;
    this.loading = true;
    const gen = this.generation;
    try {
      // A selective search may come back with few rows and a cursor (the server bounds each
      // scan): keep asking until the view is filled or the scan is done.
      do {
        const page = await fetchActors({ ...this.filters, after: this.next, limit: PAGE });
        if (gen !== this.generation) return;
        for (const r of page.items) this.upsert(r);
        this.next = page.next;
        this.complete = page.next === null;
        this.render(true);
      } while (!this.complete && this.rows.length < this.lastVisible() + OVERSCAN && gen === this.generation);
    } catch (err) {
      this.foot.textContent = `Could not load actors: ${err.message}`;
    } finally {
      if (gen === this.generation) this.loading = false;
    }
  }

  /** Applies a brief live record (`actor.event`, `actor.created`, timers, `actor.stopped`). */
  apply(rec) {
    const id = idOf(rec.kind, rec.key);
    let row = this.byId.get(id);
    if (rec.type === 'actor.event' || rec.type === 'actor.created') {
      if (row === undefined) {
        if (!this.matches(rec)) return;
        // Insert only inside the loaded range: rows past it will come with later pages.
        const last = this.rows[this.rows.length - 1];
        if (!this.complete && last && cmp(rec, last) > 0) return;
        row = { kind: rec.kind, key: rec.key, timers: 0, nextDue: null, resident: true };
        this.upsert(row);
      }
      Object.assign(row, { value: rec.value, state: stateText(rec.value), summary: rec.summary, lastEventAt: rec.at, stopped: rec.status === 'done' });
    } else if (row === undefined) return;
    else if (rec.type === 'timer.armed') row.timers += 1;
    else if (rec.type === 'timer.cancelled' || rec.type === 'timer.fired') row.timers = Math.max(0, row.timers - 1);
    else if (rec.type === 'actor.stopped') Object.assign(row, { stopped: true, timers: 0 });
    else if (rec.type === 'actor.passivated') row.resident = false;
    this.schedule(true);
  }

  matches(r) {
    const f = this.filters;
    if (f.kind && r.kind !== f.kind) return false;
    if (f.q && !r.key.toLowerCase().includes(f.q.toLowerCase())) return false;
    if (f.state && !stateText(r.value).split(', ').some((p) => p === f.state || p.startsWith(`${f.state}.`))) return false;
    return true;
  }

  upsert(r) {
    const id = idOf(r.kind, r.key);
    const old = this.byId.get(id);
    if (old) return Object.assign(old, r);
    // Binary search: rows stay in the server's key order.
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(this.rows[mid], r) < 0) lo = mid + 1;
      else hi = mid;
    }
    this.rows.splice(lo, 0, r);
    this.byId.set(id, r);
    return r;
  }

  lastVisible() {
    return Math.ceil((this.viewport.scrollTop + this.viewport.clientHeight) / ROW);
  }

  schedule(force = false) {
    if (force) this.dirty = true;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render(this.dirty);
      this.dirty = false;
    });
  }

  render(force = false) {
    const total = this.rows.length;
    this.spacer.style.height = `${total * ROW}px`;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(total, this.lastVisible() + OVERSCAN);
    const span = `${first}:${last}`;
    if (force || span !== this.rendered) {
      this.rendered = span;
      const frag = document.createDocumentFragment();
      for (let i = first; i < last; i++) frag.append(this.rowElement(this.rows[i], i));
      this.spacer.replaceChildren(frag);
    }
    const more = this.complete ? '' : ' · scroll for more';
    this.foot.textContent = total === 0 && this.complete ? 'No actor matches.' : `${total.toLocaleString('en')} loaded${more}`;
    if (!this.complete && !this.loading && last >= total - OVERSCAN) void this.loadMore();
  }

  rowElement(r, i) {
    const id = idOf(r.kind, r.key);
    return el(
      'div',
      {
        class: `row${id === this.selected ? ' selected' : ''}${r.stopped ? ' stopped' : ''}`,
        role: 'option',
        'data-kind': r.kind,
        'data-key': r.key,
        style: `top:${i * ROW}px`,
        onclick: () => this.onSelect(r.kind, r.key),
      },
      el('div', { class: 'row-main' }, el('span', { class: 'kind', text: r.kind }), el('span', { class: 'key', text: r.key, title: r.key })),
      el(
        'div',
        { class: 'row-sub' },
        el('span', { class: 'state', text: r.state }),
        el('span', { class: 'summary', text: [r.summary, r.timers ? `${r.timers} timer${r.timers === 1 ? '' : 's'}` : ''].filter(Boolean).join(' · ') }),
        el('span', { class: 'time', text: clockTime(r.lastEventAt) }),
      ),
    );
  }
}
