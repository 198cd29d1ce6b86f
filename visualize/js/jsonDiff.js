// Pretty JSON of one snapshot compared with another: lines whose value differs from the
// other side are marked, and sub-objects equal on both sides fold to `{…}` so that a change in
// a large context (a room's policy, its other participants) stands out.
import { el } from './format.js';

function same(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
}

const MISSING = Symbol('missing');

/**
 * @param {unknown} value the snapshot to print
 * @param {unknown} other the snapshot to compare with (MISSING-safe: anything)
 * @param {{ fold: boolean }} opts fold equal sub-objects
 * @returns {HTMLPreElement}
 */
export function jsonDiff(value, other, { fold }) {
  const lines = [];
  const walk = (v, o, depth, prefix, comma) => {
    const ind = '  '.repeat(depth);
    const isObj = v !== null && typeof v === 'object';
    if (!isObj) {
      lines.push({ text: `${ind}${prefix}${JSON.stringify(v) ?? 'undefined'}${comma}`, changed: !same(v, o) });
      return;
    }
    const arr = Array.isArray(v);
    const [open, close] = arr ? ['[', ']'] : ['{', '}'];
    const entries = arr ? v.map((x, i) => [i, x]) : Object.entries(v);
    const equal = same(v, o);
    if (entries.length === 0 || (fold && equal && depth > 0)) {
      const body = entries.length === 0 ? `${open}${close}` : `${open}…${close}`;
      lines.push({ text: `${ind}${prefix}${body}${comma}`, changed: !equal, folded: entries.length > 0 });
      return;
    }
    const oIsObj = o !== null && typeof o === 'object' && o !== MISSING && Array.isArray(o) === arr;
    lines.push({ text: `${ind}${prefix}${open}`, changed: !oIsObj });
    entries.forEach(([k, x], i) => {
      const sub = oIsObj && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : MISSING;
      walk(x, sub, depth + 1, arr ? '' : `${JSON.stringify(k)}: `, i < entries.length - 1 ? ',' : '');
    });
    lines.push({ text: `${ind}${close}${comma}`, changed: false });
  };
  walk(value, other === undefined ? MISSING : other, 0, '', '');
  return el('pre', {}, ...lines.map((l) => el('span', { class: `ln${l.changed ? ' chg' : ''}${l.folded ? ' fold' : ''}`, text: `${l.text}\n` })));
}
