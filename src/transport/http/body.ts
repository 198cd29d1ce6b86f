/**
 * Request bodies for the JSON API: read with a byte limit checked against Content-Length
 * before anything is buffered and again while streaming (a chunked body declares nothing),
 * then parsed. Every failure is an HttpError with the status to answer.
 */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './respond.js';

/** Default largest accepted body: admin requests are small (a room's policy lists). */
export const DEFAULT_JSON_BODY_LIMIT = 64 * 1024;

/**
 * Reads and parses a JSON request body. 415 unless the content type is JSON (a form post from
 * a browser page cannot then reach the API with a "simple" cross-site request), 413 over
 * `limit` bytes, 400 for broken JSON. An empty body is `undefined`.
 */
export async function readJson(req: IncomingMessage, limit = DEFAULT_JSON_BODY_LIMIT): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume(); // let the connection be reused without buffering what we refuse
    throw new HttpError(413, `request body over ${limit} bytes`);
  }
  // Events rather than `for await`: leaving an async iterator early destroys the request
  // and its socket, and the client would see a reset instead of the 413.
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return; // drained and dropped
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(new HttpError(413, `request body over ${limit} bytes`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
  const size = body.length;
  if (size === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0].trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'request body must be application/json');
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}
