/**
 * Server-sent events (WHATWG HTML 9.2) on one response, with a bounded queue: while the
 * socket refuses more (`write` returned false) messages wait in a queue of at most
 * `queueLimit`; past that the oldest are dropped, and once the client catches up it first
 * receives `event: dropped` with how many it lost, so a page knows to reload its view.
 * A slow browser therefore costs bounded memory and never slows the sender.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SseOptions {
  /** Messages kept while the client is not reading; default 1,000. */
  readonly queueLimit?: number;
  /** Reconnection delay suggested to the browser (`retry:`), ms; default 2,000. */
  readonly retryMs?: number;
}

/** One open event stream. */
export interface SseChannel {
  /** Queues one message (`data` is already serialized and must not contain CR or LF). */
  send(data: string, event?: string): void;
  /** Counts `n` messages lost before they reached this channel (told to the client like its own drops). */
  reportLost(n: number): void;
  /** Messages dropped so far because the client did not keep up (plus those reported lost). */
  readonly dropped: number;
  readonly closed: boolean;
  /** Called once when the client goes away or `close` is called. */
  onClose(fn: () => void): void;
  close(): void;
}

/** Starts an event stream on `res` (status 200, `text/event-stream`). */
export function openSse(req: IncomingMessage, res: ServerResponse, opts: SseOptions = {}): SseChannel {
  const limit = Math.max(1, opts.queueLimit ?? 1000);
  const queue: string[] = [];
  const closers: Array<() => void> = [];
  let blocked = false;
  let dropped = 0;
  let reported = 0;
  let closed = false;

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    // Tells reverse proxies (nginx) not to buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${opts.retryMs ?? 2000}\n\n`);

  const frame = (data: string, event?: string) => (event ? `event: ${event}\n` : '') + `data: ${data}\n\n`;

  const flush = () => {
    blocked = false;
    while (!closed && !blocked) {
      let chunk: string | undefined;
      if (dropped > reported) {
        chunk = frame(JSON.stringify({ dropped: dropped - reported, total: dropped }), 'dropped');
        reported = dropped;
      } else {
        chunk = queue.shift();
      }
      if (chunk === undefined) return;
      blocked = !res.write(chunk);
    }
  };

  const finish = () => {
    if (closed) return;
    closed = true;
    queue.length = 0;
    for (const fn of closers.splice(0)) fn();
  };
  res.on('drain', flush);
  res.on('close', finish);
  req.on('close', finish);

  return {
    send(data, event) {
      if (closed) return;
      if (!blocked && queue.length === 0 && dropped === reported) {
        blocked = !res.write(frame(data, event));
        return;
      }
      if (queue.length >= limit) {
        queue.shift();
        dropped++;
      }
      queue.push(frame(data, event));
    },
    reportLost(n) {
      if (closed || n <= 0) return;
      dropped += n;
      if (!blocked) flush();
    },
    get dropped() {
      return dropped;
    },
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
    close() {
      finish();
      res.end();
    },
  };
}
