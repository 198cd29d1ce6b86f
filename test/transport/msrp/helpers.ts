import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { pino, type Logger } from 'pino';
import { MsrpParser } from '../../../src/transport/msrp/parser.js';
import type { MsrpMessage } from '../../../src/transport/msrp/message.js';

/** A pino logger writing JSON records into an array (PACKAGES.md: a `{ write }` stream). */
export function memoryLogger(): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line)) });
  return { logger, records };
}

/** A raw TCP client that collects parsed MSRP messages. */
export async function rawClient(port: number): Promise<{ socket: Socket; messages: MsrpMessage[]; next(): Promise<MsrpMessage> }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const parser = new MsrpParser();
  const messages: MsrpMessage[] = [];
  const waiters: Array<(m: MsrpMessage) => void> = [];
  socket.on('data', (d: Buffer) => {
    for (const m of parser.push(d)) {
      if (m instanceof Error) continue;
      const w = waiters.shift();
      if (w !== undefined) w(m);
      else messages.push(m);
    }
  });
  return {
    socket,
    messages,
    next: () => {
      const m = messages.shift();
      if (m !== undefined) return Promise.resolve(m);
      return new Promise((r) => waiters.push(r));
    },
  };
}

/** Resolves on the first event with that name. */
export function nextEvent<T>(emitter: { once(ev: string, fn: (x: T) => void): unknown }, ev: string): Promise<T> {
  return new Promise((r) => emitter.once(ev, r));
}

/** Waits until the predicate holds, polling the event loop (no protocol timer involved). */
export async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setImmediate(r));
  }
}
