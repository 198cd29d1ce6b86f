/**
 * The CLI's side of the admin API: JSON requests to a running server, answered with the
 * parsed body. A server that cannot be reached, answers with something other than
 * JSON or takes too long is an AdminRequestError (exit code 1), as is any error status.
 */
import { request as httpRequest } from 'node:http';
import type { ListenAddress } from '../config.js';

/** The server refused, failed or could not be reached; `message` is what to print. */
export class AdminRequestError extends Error {
  constructor(
    message: string,
    /** The HTTP status when the server answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'AdminRequestError';
  }
}

/** How long one request may take before the CLI gives up. */
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;
/** Largest answer read: a page of 500 rooms or messages is far below it. */
const MAX_ANSWER = 16 * 1024 * 1024;

/**
 * The URL to reach a server listening on `listen`: a wildcard bind (0.0.0.0, ::) is reached
 * on the loopback address of its family.
 */
export function adminBaseUrl(listen: ListenAddress): string {
  const host = listen.host === '0.0.0.0' || listen.host === '' ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs = ADMIN_REQUEST_TIMEOUT_MS,
  ) {}

  /** Sends one request; resolves with the JSON body of a 2xx answer. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const { status, text } = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new AdminRequestError(`${status} from ${this.baseUrl}${path}, not JSON: ${text.slice(0, 200)}`, status);
    }
    if (status < 200 || status > 299) {
      const message = (parsed as { error?: { message?: string } } | null)?.error?.message ?? text.slice(0, 200);
      throw new AdminRequestError(`${status}: ${message}`, status);
    }
    return parsed as T;
  }

  /**
   * node:http rather than fetch: fetch refuses the "bad ports" of the Fetch standard (5060,
   * 6000, 6665-6669...), on which an operator may well run the admin API.
   */
  private send(method: string, path: string, body: string | undefined): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => reject(new AdminRequestError(`cannot reach the Parley admin API at ${this.baseUrl} (${why}); is the server running, and is --http-listen right?`));
      const req = httpRequest(
        url,
        {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_ANSWER) {
              req.destroy();
              reject(new AdminRequestError(`answer over ${MAX_ANSWER} bytes`, res.statusCode));
            } else chunks.push(c);
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (err) => fail(err.message));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
      req.end(body);
    });
  }
}

