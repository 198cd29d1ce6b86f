// Formatting helpers. Times are the server's clock (a simulated one in tests), so relative
// times are computed against the `now` the server sent, never against the browser's clock.

/** `10:00:05.250` for a time in ms since the epoch (UTC, as the server logs). */
export function clockTime(ms) {
  if (typeof ms !== 'number') return '';
  return new Date(ms).toISOString().slice(11, 23);
}

/** `in 4.8 s`, `2 min ago`... from `now` (server time). */
export function relative(ms, now) {
  if (typeof ms !== 'number' || typeof now !== 'number') return '';
  const d = ms - now;
  const a = Math.abs(d);
  const text = a < 1000 ? `${a} ms` : a < 60_000 ? `${(a / 1000).toFixed(1)} s` : a < 3_600_000 ? `${Math.round(a / 60_000)} min` : `${(a / 3_600_000).toFixed(1)} h`;
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

/** State value as dotted leaf paths joined by commas (`open`, `busy.left.x, busy.right.u`). */
export function stateText(value) {
  const paths = [];
  const walk = (v, prefix) => {
    if (typeof v === 'string') paths.push(prefix + v);
    else if (v && typeof v === 'object') {
      const entries = Object.entries(v);
      if (entries.length === 0) paths.push(prefix.slice(0, -1));
      for (const [k, sub] of entries) walk(sub, `${prefix}${k}.`);
    }
  };
  walk(value, '');
  return paths.join(', ');
}

/** Creates an element with attributes and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}
