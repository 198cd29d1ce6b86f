// The selected actor's timeline (newest first), its pending durable timers, and the JSON
// panel that shows the current context or, for a picked event, the snapshots around it.
import { clockTime, el, relative, stateText } from './format.js';
import { jsonDiff } from './jsonDiff.js';

const KIND_LABEL = { created: 'created', restored: 'restored', passivated: 'passivated', stopped: 'stopped', error: 'error' };

/** @param {HTMLElement} ol @param {any[]} events oldest first, as the server keeps them */
export function renderTimeline(ol, events, { selectedSeq, onPick }) {
  if (events.length === 0) {
    ol.replaceChildren(el('li', { class: 'none', text: 'No events seen since the server started.' }));
    return;
  }
  const items = [...events].reverse().map((e) =>
    el(
      'li',
      {
        class: `tl-item ${e.kind}${e.seq === selectedSeq ? ' selected' : ''}`,
        'data-seq': e.seq,
        'data-type': e.type,
        tabindex: 0,
        onclick: () => onPick(e.seq),
        onkeydown: (ev) => (ev.key === 'Enter' ? onPick(e.seq) : undefined),
      },
      el('span', { class: 'tl-time', text: clockTime(e.at) }),
      el('span', { class: `tl-type${e.kind === 'event' ? '' : ' lifecycle'}`, text: e.kind === 'event' ? e.type : KIND_LABEL[e.kind] === e.type ? e.type : `${KIND_LABEL[e.kind]}: ${e.type}` }),
      e.value !== undefined ? el('span', { class: 'tl-state', text: `→ ${stateText(e.value)}` }) : e.error ? el('span', { class: 'tl-error', text: e.error }) : null,
    ),
  );
  ol.replaceChildren(...items);
}

/** @param {HTMLElement} ul @param {Array<{id: string, due: number, event: {type: string}}>} timers */
export function renderTimers(ul, timers, now) {
  if (timers.length === 0) {
    ul.replaceChildren(el('li', { class: 'none', text: 'None.' }));
    return;
  }
  ul.replaceChildren(
    ...timers.map((t) =>
      el(
        'li',
        { class: 'timer', 'data-id': t.id },
        el('span', { class: 'timer-event', text: t.event?.type ?? '?' }),
        el('span', { class: 'timer-id', text: t.id }),
        el('span', { class: 'timer-due', text: `${clockTime(t.due)} (${relative(t.due, now)})` }),
      ),
    ),
  );
}

function jsonBlock(cls, label, value) {
  return el('div', { class: `json ${cls}` }, el('div', { class: 'json-label', text: label }), el('pre', { text: JSON.stringify(value, null, 2) ?? 'undefined' }));
}

/** Shows the actor's current context. */
export function renderContext(box, title, context) {
  title.textContent = 'Context';
  box.replaceChildren(jsonBlock('current', 'now', context));
}

let foldEqual = true;

/** Shows one event with the snapshot before and after it, changes marked, equal parts folded. */
export function renderSnapshots(box, title, entry, onClose) {
  const toggle = el('button', { class: 'link', type: 'button', text: foldEqual ? 'show all' : 'fold unchanged' });
  toggle.addEventListener('click', () => {
    foldEqual = !foldEqual;
    renderSnapshots(box, title, entry, onClose);
  });
  title.replaceChildren(`${entry.type} at ${clockTime(entry.at)}`, el('span', { class: 'title-actions' }, toggle, el('button', { class: 'link', type: 'button', text: 'back to context', onclick: onClose })));
  // Before/after first: they are what a reader came for; the event and effects follow.
  const side = (cls, label, v, other) => el('div', { class: `json ${cls}` }, el('div', { class: 'json-label', text: label }), jsonDiff(v, other, { fold: foldEqual }));
  const pair = el('div', { class: 'pair' });
  if (entry.before) pair.append(side('before', `before · ${stateText(entry.before.value)}`, entry.before, entry.after));
  if (entry.after) pair.append(side('after', `after · ${stateText(entry.after.value)}`, entry.after, entry.before));
  const blocks = [pair];
  if (entry.error) blocks.push(jsonBlock('error', 'error', entry.error));
  if (entry.event !== undefined) blocks.push(jsonBlock('event', 'event', entry.event));
  if (entry.effects?.length) blocks.push(jsonBlock('effects', 'effects', entry.effects));
  box.replaceChildren(...blocks);
}
