/** A minimal server-sent events reader for tests (node:http, no EventSource in Node 20). */
import { get, type ClientRequest, type IncomingMessage } from 'node:http';

export interface SseMessage {
  readonly event: string;
  readonly data: string;
}

export interface SseReader {
  readonly messages: SseMessage[];
  readonly response: IncomingMessage;
  /** Resolves with the first message (already received or future) matching `pred`. */
  waitFor(pred: (m: SseMessage) => boolean, timeoutMs?: number): Promise<SseMessage>;
  close(): void;
}

export function readSse(url: string, opts: { paused?: boolean } = {}): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = get(url, (res) => {
      const messages: SseMessage[] = [];
      const waiters: Array<() => void> = [];
      let buf = '';
      res.setEncoding('utf8');
      if (opts.paused) res.pause();
      res.on('data', (chunk: string) => {
        buf += chunk;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) messages.push({ event, data: data.join('\n') });
        }
        for (const w of waiters.splice(0)) w();
      });
      resolve({
        messages,
        response: res,
        waitFor(pred, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error('no matching SSE message')), timeoutMs);
            const check = () => {
              const m = messages.find(pred);
              if (m) {
                clearTimeout(timer);
                ok(m);
              } else waiters.push(check);
            };
            check();
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
