/**
 * Serving files from one directory (the visualizer's page) and single files (elkjs's browser
 * bundle from node_modules). Paths are decoded, then refused if any segment is `..` or
 * starts with a dot, and the resolved file must stay under the root: no request reaches
 * outside the directory it was given.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { HttpError } from './respond.js';
import type { RouteHandler } from './router.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The content type served for a file name (octet-stream when unknown). */
export function contentTypeOf(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * A handler for a `/prefix/*` route serving `root`; an empty rest serves `index.html`.
 * Files are read per request (the page is small and this keeps edits visible at once).
 */
export function staticFiles(root: string): RouteHandler {
  const base = resolve(root);
  return async (_req, res, ctx) => {
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.rest);
    } catch {
      throw new HttpError(400, 'bad percent-encoding');
    }
    const segs = rel.split('/').filter((s) => s !== '');
    if (segs.some((s) => s.startsWith('.') || s.includes('\\') || s.includes('\0'))) throw new HttpError(404, 'not found');
    const file = segs.length === 0 ? join(base, 'index.html') : join(base, ...segs);
    if (file !== base && !file.startsWith(base + sep)) throw new HttpError(404, 'not found');
    await sendFile(res, file);
  };
}

/** A handler serving one fixed file. */
export function singleFile(file: string): RouteHandler {
  return async (_req, res) => sendFile(res, resolve(file));
}

async function sendFile(res: Parameters<RouteHandler>[1], file: string): Promise<void> {
  let body: Buffer;
  try {
    if (!(await stat(file)).isFile()) throw new HttpError(404, 'not found');
    body = await readFile(file);
  } catch (err) {
    if (err instanceof HttpError) throw err;
    throw new HttpError(404, 'not found');
  }
  res.writeHead(200, {
    'content-type': contentTypeOf(file),
    'content-length': String(body.length),
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}
