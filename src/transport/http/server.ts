/**
 * Parley's HTTP server on node:http: a routing table, uniform JSON errors, and no request
 * ending in silence (404 for unknown paths, 405 with Allow for known paths with another
 * method, 500 for a handler that throws). Bound to 127.0.0.1 unless configured otherwise,
 * because everything it serves (the visualizer, later the admin API) is for operators.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { HttpError, sendError } from './respond.js';
import { BadPathError, Router, type Route } from './router.js';

export interface HttpServerOptions {
  /** Default 127.0.0.1:8080; port 0 picks a free port. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  readonly logger: Logger;
  readonly routes?: readonly Route[];
}

/** A listening server. */
export interface HttpServer {
  /** The bound address (the real port when 0 was asked). */
  readonly address: { readonly host: string; readonly port: number };
  /** `http://host:port` of the bound address. */
  readonly url: string;
  readonly router: Router;
  /** Adds routes to the live server (admin API, visualizer...). */
  addRoutes(...routes: readonly Route[]): void;
  /** Stops listening and ends open connections (event streams included). */
  close(): Promise<void>;
  /** The underlying node:http server, for tests and upgrades. */
  readonly server: Server;
}

/** Creates the server and resolves once it listens. */
export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const router = new Router(opts.routes ?? []);
  const log = opts.logger.child({ transport: 'http' });
  const server = createServer((req, res) => void handle(router, log, req, res));
  const host = opts.listen?.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen?.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const address = { host: addr.address, port: addr.port };
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  log.info({ address }, 'http listening');
  return {
    address,
    url: `http://${shownHost}:${addr.port}`,
    router,
    server,
    addRoutes: (...routes) => router.add(...routes),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Event streams never end on their own: close every connection, idle or not.
        server.closeAllConnections();
      }),
  };
}

async function handle(router: Router, log: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    sendError(res, 400, 'bad request target');
    return;
  }
  try {
    const m = router.match(req.method ?? 'GET', url.pathname);
    if (!m.found) {
      if (m.allow.length > 0) sendError(res, 405, `method ${req.method} not allowed`, { allow: m.allow.join(', ') });
      else sendError(res, 404, `no such resource: ${url.pathname}`);
      return;
    }
    await m.route.handler(req, res, { params: m.params, query: url.searchParams, rest: m.rest });
  } catch (err) {
    if (err instanceof HttpError || err instanceof BadPathError) {
      if (!res.headersSent) sendError(res, err.status, err.message);
      else res.end();
      return;
    }
    log.error({ err, method: req.method, path: url.pathname }, 'http handler failed');
    if (!res.headersSent) sendError(res, 500, 'internal error');
    else res.destroy();
  }
}
