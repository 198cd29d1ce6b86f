/**
 * Bounded copies of what the inspection index keeps per actor (events and effects). The index
 * remembers the last entries of thousands of actors, and a raw event may carry a batch of 256
 * stored MESSAGEs with their bodies: kept whole, one busy mailbox would hold megabytes, and what
 * outlives two scavenges costs the garbage collector on every message. A preview keeps the
 * shape a person reads in the visualizer (types, ids, the first items) within fixed bounds.
 */
import { detachedPrefix } from '../strings.js';

export interface PreviewLimits {
  /** Characters of a string kept (longer ones end with an ellipsis). */
  readonly maxString: number;
  /** Array elements, and object keys, kept (the rest is counted). */
  readonly maxItems: number;
  /** Nesting depth kept (deeper values become `"…"`). */
  readonly maxDepth: number;
}

export const defaultPreviewLimits: PreviewLimits = { maxString: 160, maxItems: 12, maxDepth: 5 };

/** A JSON-like copy of `v` within `limits`; values already within them are copied as they are. */
export function preview(v: unknown, limits: PreviewLimits = defaultPreviewLimits, depth = 0): unknown {
  if (typeof v === 'string') return v.length > limits.maxString ? detachedPrefix(v, limits.maxString) : v;
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
  if (depth >= limits.maxDepth) return '\u2026';
  if (Array.isArray(v)) {
    const n = Math.min(v.length, limits.maxItems);
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = preview(v[i], limits, depth + 1);
    if (v.length > n) out.push(`\u2026 ${v.length - n} more`);
    return out;
  }
  const out: Record<string, unknown> = {};
  let kept = 0;
  let skipped = 0;
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    if (kept === limits.maxItems) {
      skipped++;
      continue;
    }
    kept++;
    out[k] = preview((v as Record<string, unknown>)[k], limits, depth + 1);
  }
  if (skipped > 0) out['\u2026'] = `${skipped} more keys`;
  return out;
}
