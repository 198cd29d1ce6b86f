/**
 * A whole Parley server for admin API tests (startServer: LMDB in a temp dir, a
 * SimulatedClock, every listener on 127.0.0.1 port 0), a JSON client for its HTTP API, and a
 * restart that stops the server (closing LMDB) and starts a new one on the same directory.
 */
import { pino } from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import { loadConfig } from '../../../src/config.js';
import { startServer, type Server } from '../../../src/server.js';
import { MAILBOX_KIND } from '../../../src/actors/mailboxKind.js';
import { mailboxEvents } from '../../../src/machines/mailboxTypes.js';
import { tempDir } from '../../helpers/runtime.js';

export interface AdminResponse<T = any> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface AdminFixture {
  readonly server: Server;
  readonly clock: SimulatedClock;
  readonly dataDir: string;
  /** `http://127.0.0.1:port` of the current server. */
  readonly url: string;
  /** Sends `body` as JSON (a string is sent as is) and parses the JSON answer. */
  call<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<AdminResponse<T>>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const configFor = (dataDir: string, flags: Record<string, string> = {}) =>
  loadConfig({
    flags: { '--data-dir': dataDir, '--sip-listen': '127.0.0.1:0', '--msrp-listen': '127.0.0.1:0', '--http-listen': '127.0.0.1:0', '--log-level': 'silent', ...flags },
  });

/** `flags`: more configuration flags (`--room-join-allow`...). */
export async function startAdminServer(flags: Record<string, string> = {}): Promise<AdminFixture> {
  const dir = tempDir('parley-admin-');
  const clock = new SimulatedClock();
  const logger = pino({ level: 'silent' });
  let server = await startServer(configFor(dir.path, flags), { clock, logger });
  const urlOf = () => `http://127.0.0.1:${server.addresses.http.port}`;
  return {
    get server() {
      return server;
    },
    clock,
    dataDir: dir.path,
    get url() {
      return urlOf();
    },
    async call(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const res = await fetch(urlOf() + path, init);
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
      }
      return { status: res.status, body: parsed as never, headers: res.headers };
    },
    async restart() {
      await server.stop();
      server = await startServer(configFor(dir.path, flags), { clock, logger });
    },
    async close() {
      await server.stop();
      dir.remove();
    },
  };
}

/** The path of one room or mailbox: the URI percent-encoded as one segment. */
export const roomPath = (uri: string) => `/api/admin/rooms/${encodeURIComponent(uri)}`;
export const mailboxPath = (aor: string) => `/api/admin/mailboxes/${encodeURIComponent(aor)}`;

/** Stores message `n` (body `hello n`) from Alice in `aor`'s mailbox, as the mailbox application would. */
export async function storeMessage(f: Pick<AdminFixture, 'server' | 'clock'>, aor: string, n: number): Promise<void> {
  const message = {
    ruri: aor,
    from: '"Alice" <sip:alice@example.com>',
    to: `<${aor}>`,
    contentType: 'text/plain',
    body: Buffer.from(`hello ${n}`),
    callId: `call-${aor}-${n}`,
    cseq: 1,
  };
  const r = await f.server.supervisor.dispatch(MAILBOX_KIND, aor, mailboxEvents.store(f.clock.now(), message, [`cid:${message.callId}`], false), { create: true });
  if (r !== 'ok') throw new Error(`message ${n} for ${aor} not stored: ${r}`);
}
