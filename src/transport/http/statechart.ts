/**
 * A machine's statechart as plain JSON for the visualizer: the tree of states (compound,
 * parallel, final...) and every transition with a readable label - `JOIN [mayCreate]`,
 * `after 5 s`, `always [isEmptyAdhoc]`. Read from xstate's resolved state nodes
 * (`machine.root`), which already expand `after` into delayed transitions with their delay.
 */
import type { AnyStateMachine } from 'xstate';

/** One transition of a state. `targets` empty means targetless (actions only, stays put). */
export interface ChartTransition {
  readonly kind: 'event' | 'after' | 'always';
  /** The event type as xstate names it (`JOIN`, `xstate.after.5000.room.idle`, `` for always). */
  readonly event: string;
  /** What to print on the edge. */
  readonly label: string;
  readonly targets: readonly string[];
  readonly guard?: string;
  /** Delay of an `after` transition: ms, or the name of a configured delay. */
  readonly delay?: number | string;
}

/** One state node; `id` is xstate's (`conference.open`), unique within the machine. */
export interface ChartNode {
  readonly id: string;
  readonly key: string;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Ids of the initial child states (compound states). */
  readonly initial: readonly string[];
  readonly transitions: readonly ChartTransition[];
  readonly children: readonly ChartNode[];
}

/** Minimal view of xstate's StateNode that this module reads (its types are wide). */
interface NodeLike {
  readonly id: string;
  readonly key: string;
  readonly type: ChartNode['type'];
  readonly initial?: { readonly target?: readonly { readonly id: string }[] };
  readonly transitions: Map<string, readonly TransitionLike[]>;
  readonly always?: readonly TransitionLike[];
  readonly states: Record<string, NodeLike>;
}

interface TransitionLike {
  readonly eventType: string;
  readonly target?: readonly { readonly id: string }[];
  readonly guard?: unknown;
  readonly delay?: number | string;
}

/** The statechart of `machine`, rooted at its top state node. */
export function statechartOf(machine: AnyStateMachine): ChartNode {
  return nodeOf(machine.root as unknown as NodeLike);
}

function nodeOf(n: NodeLike): ChartNode {
  const transitions: ChartTransition[] = [];
  for (const list of n.transitions.values()) for (const t of list) transitions.push(transitionOf(t));
  for (const t of n.always ?? []) transitions.push(transitionOf(t, true));
  return {
    id: n.id,
    key: n.key,
    type: n.type,
    initial: n.initial?.target?.map((s) => s.id) ?? [],
    transitions,
    children: Object.values(n.states).map(nodeOf),
  };
}

function transitionOf(t: TransitionLike, always = false): ChartTransition {
  const targets = t.target?.map((s) => s.id) ?? [];
  const guard = guardName(t.guard);
  const suffix = guard === undefined ? '' : ` [${guard}]`;
  if (always) return { kind: 'always', event: '', label: `always${suffix}`, targets, ...(guard && { guard }) };
  if (t.delay !== undefined) {
    return { kind: 'after', event: t.eventType, label: `after ${formatDelay(t.delay)}${suffix}`, targets, delay: t.delay, ...(guard && { guard }) };
  }
  return { kind: 'event', event: t.eventType, label: eventLabel(t.eventType) + suffix, targets, ...(guard && { guard }) };
}

/** `5000` -> `5 s`, `90000` -> `90 s`, `300000` -> `5 min`, `250` -> `250 ms`; names stay names. */
export function formatDelay(delay: number | string): string {
  if (typeof delay === 'string') return delay;
  if (delay < 1000 || delay % 1000 !== 0) return `${delay} ms`;
  const s = delay / 1000;
  if (s % 3600 === 0) return `${s / 3600} h`;
  if (s >= 300 && s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}

function eventLabel(type: string): string {
  if (type.startsWith('xstate.done.state.')) return 'onDone';
  if (type.startsWith('xstate.done.actor.')) return `done: ${type.slice('xstate.done.actor.'.length)}`;
  if (type.startsWith('xstate.error.actor.')) return `error: ${type.slice('xstate.error.actor.'.length)}`;
  return type;
}

/** Named guards (`'mayJoin'`, `{ type: 'mayJoin' }`), combinators (`not(x)`), inline functions. */
function guardName(g: unknown): string | undefined {
  if (g === undefined || g === null) return undefined;
  if (typeof g === 'string') return g;
  if (typeof g === 'function') {
    const inner = (g as { guards?: unknown[]; check?: unknown }).guards;
    const kind = (g as { name?: string }).name;
    if (Array.isArray(inner) && inner.length > 0) return `${kind ?? 'guard'}(${inner.map((x) => guardName(x) ?? '?').join(', ')})`;
    return kind && kind !== 'guard' ? kind : 'guard';
  }
  if (typeof g === 'object' && typeof (g as { type?: unknown }).type === 'string') return (g as { type: string }).type;
  return 'guard';
}

/**
 * The active state ids for a state value: `'open'` -> `['conference', 'conference.open']`,
 * `{ p: { r1: 'x', r2: 'u' } }` -> the root, `p`, both regions and both leaves.
 */
export function activeIds(chart: ChartNode, value: unknown): string[] {
  const out = [chart.id];
  const walk = (node: ChartNode, v: unknown) => {
    if (typeof v === 'string') {
      const child = node.children.find((c) => c.key === v);
      if (child) out.push(child.id);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    for (const [k, sub] of Object.entries(v)) {
      const child = node.children.find((c) => c.key === k);
      if (!child) continue;
      out.push(child.id);
      walk(child, sub);
    }
  };
  walk(chart, value);
  return out;
}

/** State value as dotted leaf paths: `{ p: { r1: 'x' } }` -> `['p.r1.x']`, `'open'` -> `['open']`. */
export function statePaths(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value !== 'object' || value === null) return [];
  const out: string[] = [];
  for (const [k, sub] of Object.entries(value)) {
    const inner = statePaths(sub);
    if (inner.length === 0) out.push(k);
    else for (const p of inner) out.push(`${k}.${p}`);
  }
  return out;
}
