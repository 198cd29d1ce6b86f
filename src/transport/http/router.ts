/**
 * A tiny router: method + path pattern -> handler. Patterns are literal segments and
 * `:name` parameters (`/api/actors/:kind/:key`); a parameter matches exactly one segment and
 * is percent-decoded after splitting, so an actor key containing `/` travels as `%2F`.
 * A path pattern ending in `/*` matches any rest of the path (static files), given as `rest`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler receives besides the raw request and response. */
export interface RouteContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The unmatched remainder of the path for `/*` patterns, still percent-encoded. */
  readonly rest: string;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, ctx: RouteContext) => void | Promise<void>;

/** One entry of the routing table. */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  readonly handler: RouteHandler;
}

/** Outcome of a lookup: a handler with its parameters, or which methods the path allows. */
export type RouteMatch =
  | { readonly found: true; readonly route: Route; readonly params: Record<string, string>; readonly rest: string }
  | { readonly found: false; readonly allow: readonly HttpMethod[] };

interface Compiled {
  readonly route: Route;
  readonly segments: readonly string[];
  readonly wildcard: boolean;
}

/** Thrown for a path whose percent-encoding is broken; the server answers 400. */
export class BadPathError extends Error {
  readonly status = 400;
}

export class Router {
  private readonly table: Compiled[] = [];

  constructor(routes: readonly Route[] = []) {
    this.add(...routes);
  }

  /**
   * Adds routes. Exact patterns are tried before `/*` patterns whatever the order they were
   * added in (so a static catch-all never shadows an API route added later); otherwise the
   * earlier route wins.
   */
  add(...routes: readonly Route[]): void {
    for (const route of routes) {
      if (!route.path.startsWith('/')) throw new Error(`route path must start with /: ${route.path}`);
      const wildcard = route.path.endsWith('/*');
      const body = wildcard ? route.path.slice(0, -2) : route.path;
      this.table.push({ route, segments: split(body), wildcard });
    }
    // Stable sort: keeps insertion order within each group.
    this.table.sort((a, b) => Number(a.wildcard) - Number(b.wildcard));
  }

  /** Finds the route for `method` and a raw (still encoded) `pathname`. */
  match(method: string, pathname: string): RouteMatch {
    const segs = split(pathname);
    const allow = new Set<HttpMethod>();
    for (const c of this.table) {
      const m = matchSegments(c, segs);
      if (m === undefined) continue;
      // HEAD is served by GET handlers (node:http drops the body for HEAD).
      if (c.route.method === method || (method === 'HEAD' && c.route.method === 'GET')) return { found: true, route: c.route, ...m };
      allow.add(c.route.method);
    }
    return { found: false, allow: [...allow] };
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchSegments(c: Compiled, segs: readonly string[]): { params: Record<string, string>; rest: string } | undefined {
  if (c.wildcard ? segs.length < c.segments.length : segs.length !== c.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < c.segments.length; i++) {
    const pat = c.segments[i];
    if (pat.startsWith(':')) params[pat.slice(1)] = decode(segs[i]);
    else if (pat !== segs[i]) return undefined;
  }
  return { params, rest: segs.slice(c.segments.length).join('/') };
}

function decode(seg: string): string {
  try {
    return decodeURIComponent(seg);
  } catch {
    throw new BadPathError(`bad percent-encoding in path segment`);
  }
}
