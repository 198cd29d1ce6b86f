/**
 * What keeps a web page out of the admin API, which has no authentication of its own and
 * trusts whoever can reach its (by default loopback) address:
 *
 * - DNS rebinding: a page on evil.example whose name is re-pointed to 127.0.0.1 talks to the
 *   API "same-origin". Its requests carry `Host: evil.example`, so only hosts that cannot be
 *   rebound are taken: IP literals, `localhost`, and the name the server was told to bind.
 * - Cross-site requests: a browser sends `Origin` with every POST/PATCH/DELETE; one whose host
 *   is not the request's Host is refused (the CLI and curl send none). Plain form posts are
 *   already refused by the JSON content-type check (src/transport/http/body.ts).
 */
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../../transport/http/respond.js';
import type { Route } from '../../transport/http/router.js';

/** `host` of a Host header or URL authority (`[::1]:8080` -> `::1`), lower-cased. */
function hostOf(authority: string): string {
  const a = authority.trim().toLowerCase();
  if (a.startsWith('[')) return a.slice(1, a.indexOf(']') < 0 ? undefined : a.indexOf(']'));
  const colon = a.lastIndexOf(':');
  return colon < 0 ? a : a.slice(0, colon);
}

/** Refuses the request with 403 unless it may come from a browser page at all (see above). */
export function checkAdminRequest(req: IncomingMessage, boundHost?: string): void {
  const host = hostOf(req.headers.host ?? '');
  const trusted = host !== '' && (isIP(host) !== 0 || host === 'localhost' || host === boundHost?.toLowerCase());
  if (!trusted) throw new HttpError(403, `admin API refused for Host ${JSON.stringify(req.headers.host ?? '')}: use an IP address, localhost or the configured listen host`);
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (originHost?.toLowerCase() !== (req.headers.host ?? '').toLowerCase()) throw new HttpError(403, `admin API refused for cross-site Origin ${origin}`);
  }
}

export interface AdminRouteOptions {
  /** The host name the HTTP server was told to bind (`httpListen.host`), also taken as Host. */
  readonly boundHost?: string;
}

/** The same routes, each checking its request first. */
export function guarded(routes: readonly Route[], boundHost?: string): Route[] {
  return routes.map((r) => ({
    ...r,
    handler: (req, res, ctx) => {
      checkAdminRequest(req, boundHost);
      return r.handler(req, res, ctx);
    },
  }));
}
