// A machine's statechart laid out by elkjs (global ELK from /vendor/elk.bundled.js) and drawn
// as SVG. States are boxes (compound and parallel ones contain their children, parallel
// regions dashed), transitions with a target are labelled edges, and targetless transitions
// (actions only, the state does not change) are listed inside their state, where a reader
// looks for "what does this state handle".
import { el } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const FONT = '12px ui-sans-serif, system-ui, -apple-system, "Segoe UI", sans-serif';
const HEAD = 26; // height of a state's title bar
const LINE = 17; // height of one listed event
const PAD = 10;

let measureCtx;
function textWidth(text, font = FONT) {
  measureCtx ??= document.createElement('canvas').getContext('2d');
  measureCtx.font = font;
  return Math.ceil(measureCtx.measureText(text).width);
}

function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, String(v));
  for (const c of children) if (c) e.append(c);
  return e;
}

/** Events a state handles without leaving it, one line each. */
const internalLines = (node) => node.transitions.filter((t) => t.targets.length === 0).map((t) => t.label);

/** Builds the ELK graph for a chart (the root state is drawn as the outer box). */
function elkGraph(chart) {
  const edges = [];
  let n = 0;
  const build = (node, parentType) => {
    const lines = internalLines(node);
    const title = node.key;
    const contentWidth = Math.max(textWidth(title, `600 ${FONT}`) + 28, ...lines.map((l) => textWidth(l) + 2 * PAD));
    const linesHeight = lines.length ? lines.length * LINE + 6 : 0;
    for (const t of node.transitions) {
      for (const target of t.targets) {
        edges.push({ id: `e${n++}`, sources: [node.id], targets: [target], labels: [{ text: t.label, width: textWidth(t.label) + 8, height: 16 }], kind: t.kind });
      }
    }
    const g = { id: node.id, data: { node, lines, parentType } };
    if (node.children.length === 0) {
      g.width = Math.max(96, contentWidth);
      g.height = HEAD + linesHeight + (lines.length ? 4 : 8);
      return g;
    }
    const children = node.children.map((c) => build(c, node.type));
    if (node.type === 'compound' && node.initial.length > 0) {
      const dot = { id: `init:${node.id}`, width: 10, height: 10, data: { initialDot: true } };
      children.unshift(dot);
      for (const target of node.initial) edges.push({ id: `e${n++}`, sources: [dot.id], targets: [target], labels: [], kind: 'initial' });
    }
    g.children = children;
    g.layoutOptions = {
      'elk.padding': `[top=${HEAD + linesHeight + 8},left=14,bottom=14,right=14]`,
      'elk.nodeSize.constraints': 'MINIMUM_SIZE',
      'elk.nodeSize.minimum': `(${contentWidth + 28}, ${HEAD + linesHeight + 30})`,
      // Parallel regions side by side read as "at the same time".
      ...(node.type === 'parallel' ? { 'elk.direction': 'RIGHT' } : {}),
    };
    return g;
  };
  const root = build(chart, undefined);
  return {
    id: '__graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '56',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeLabel': '3',
      'elk.spacing.edgeNode': '14',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: [root],
    edges,
  };
}

/**
 * Lays out and draws `chart`. Returns `element` (for the caller to insert: a layout that
 * finishes after the user moved on must not replace the newer chart) and `highlight`.
 */
export async function drawChart(chart) {
  // eslint-disable-next-line no-undef
  const elk = new ELK();
  const laid = await elk.layout(elkGraph(chart));
  const nodes = svg('g', { class: 'nodes' });
  const edgeLayer = svg('g', { class: 'edges' });
  const labelLayer = svg('g', { class: 'labels' });
  const drawNode = (g) => {
    if (g.data?.initialDot) {
      nodes.append(svg('circle', { class: 'initial', cx: g.x + 5, cy: g.y + 5, r: 5 }));
      return;
    }
    const { node, lines, parentType } = g.data;
    const cls = ['state', node.type, parentType === 'parallel' ? 'region' : ''].join(' ');
    const group = svg('g', { class: cls, 'data-id': node.id });
    group.append(svg('rect', { class: 'box', x: g.x, y: g.y, width: g.width, height: g.height, rx: 8 }));
    if (node.type === 'final') group.append(svg('rect', { class: 'inner', x: g.x + 3, y: g.y + 3, width: g.width - 6, height: g.height - 6, rx: 6 }));
    group.append(svg('text', { class: 'title', x: g.x + 12, y: g.y + 17 }, document.createTextNode(node.key)));
    if (node.type === 'parallel') group.append(svg('text', { class: 'tag', x: g.x + g.width - 10, y: g.y + 17, 'text-anchor': 'end' }, document.createTextNode('parallel')));
    if (lines.length > 0) {
      group.append(svg('line', { class: 'sep', x1: g.x, x2: g.x + g.width, y1: g.y + HEAD, y2: g.y + HEAD }));
      lines.forEach((l, i) => group.append(svg('text', { class: 'event', x: g.x + PAD, y: g.y + HEAD + 15 + i * LINE }, document.createTextNode(l))));
    }
    nodes.append(group);
    for (const c of g.children ?? []) drawNode(c);
  };
  laid.children.forEach(drawNode);
  for (const e of laid.edges) {
    for (const s of e.sections ?? []) {
      const pts = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
      const d = pts.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ');
      edgeLayer.append(svg('path', { class: `edge ${e.kind}`, d, 'data-source': e.sources[0], 'marker-end': 'url(#arrow)' }));
    }
    for (const l of e.labels ?? []) {
      const g = svg('g', { class: `edge-label ${e.kind}`, 'data-source': e.sources[0] });
      g.append(svg('rect', { x: l.x, y: l.y, width: l.width, height: l.height, rx: 3 }));
      g.append(svg('text', { x: l.x + l.width / 2, y: l.y + 12, 'text-anchor': 'middle' }, document.createTextNode(l.text)));
      labelLayer.append(g);
    }
  }
  const defs = svg('defs', {}, svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' })));
  const root = svg('svg', { class: 'statechart', viewBox: `0 0 ${laid.width} ${laid.height}`, width: laid.width, height: laid.height, role: 'img', 'aria-label': `statechart of ${chart.id}` }, defs, nodes, edgeLayer, labelLayer);
  return {
    element: el('div', { class: 'chart-scroll' }, root),
    /** Marks the states in `active` (ids, ancestors included) and the edges leaving them. */
    highlight(active) {
      const set = new Set(active);
      const leaves = new Set(active.filter((id) => !active.some((o) => o !== id && o.startsWith(`${id}.`))));
      for (const g of root.querySelectorAll('g.state')) {
        const id = g.getAttribute('data-id');
        g.classList.toggle('active', set.has(id));
        g.classList.toggle('current', leaves.has(id));
      }
      for (const e of root.querySelectorAll('[data-source]')) e.classList.toggle('enabled', set.has(e.getAttribute('data-source')));
    },
  };
}

/** Active state ids for a state value (the root and every active descendant). */
export function activeIds(chart, value) {
  const out = [chart.id];
  const walk = (node, v) => {
    if (typeof v === 'string') {
      const c = node.children.find((x) => x.key === v);
      if (c) out.push(c.id);
    } else if (v && typeof v === 'object') {
      for (const [k, sub] of Object.entries(v)) {
        const c = node.children.find((x) => x.key === k);
        if (c) {
          out.push(c.id);
          walk(c, sub);
        }
      }
    }
  };
  walk(chart, value);
  return out;
}
