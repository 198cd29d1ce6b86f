/**
 * Response helpers. Every answer of the HTTP API goes through these, so errors have one
 * shape: `{ "error": { "status": 404, "message": "..." } }`.
 */
import type { ServerResponse } from 'node:http';

/** An error with the HTTP status to answer; anything else becomes a logged 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sends `body` as JSON. Values JSON cannot carry (bigint) are written as strings and cycles
 * as "[cycle]", because contexts are application data the visualizer only displays.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = safeStringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** Sends the uniform error body. */
export function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: { status, message } }, headers);
}

/** JSON.stringify that never throws on bigint or cycles. */
export function safeStringify(value: unknown): string {
  const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
  try {
    return JSON.stringify(value, big) ?? 'null';
  } catch {
    // A cycle: copy with the ancestors tracked, so that a sub-object shared by two branches
    // (common in immutable contexts) is still printed in full.
    return JSON.stringify(acyclic(value, new Set()), big) ?? 'null';
  }
}

function acyclic(v: unknown, ancestors: Set<object>): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (ancestors.has(v)) return '[cycle]';
  ancestors.add(v);
  const toJSON = (v as { toJSON?: () => unknown }).toJSON;
  const out = typeof toJSON === 'function'
    ? acyclic(toJSON.call(v), ancestors)
    : Array.isArray(v)
      ? v.map((x) => acyclic(x, ancestors))
      : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, acyclic(x, ancestors)]));
  ancestors.delete(v);
  return out;
}

/** Parses an integer query parameter within bounds, or answers 400 through HttpError. */
export function intParam(query: URLSearchParams, name: string, def: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new HttpError(400, `${name} must be an integer >= ${min}`);
  return Math.min(n, max);
}
