/**
 * A visualizer over a real runtime for tests: LMDB in a temp dir, SimulatedClock, the room
 * kind, an ActorIndex, and the HTTP server on a free port. Also a way for tests to make
 * things happen in rooms without the room application (`RoomDriver`: domain events straight to
 * the supervisor); test/visualize/visualizer-sip.test.ts joins rooms over SIP/MSRP instead.
 */
import { get, type IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { ActorIndex } from '../../../src/actors/actorIndex.js';
import type { ActorKind } from '../../../src/actors/kind.js';
import { roomKind } from '../../../src/actors/roomKind.js';
import type { Supervisor } from '../../../src/actors/supervisor.js';
import { conferenceEvents, type ParticipantInfo } from '../../../src/machines/conference.js';
import { createHttpServer, type HttpServer } from '../../../src/transport/http/server.js';
import { visualizerRoutes, type VisualizerOptions } from '../../../src/transport/http/visualizerRoutes.js';
import { createTestRuntime, tempDir, type TestRuntime } from '../../helpers/runtime.js';

export interface VisualizerFixture {
  readonly rt: TestRuntime;
  readonly index: ActorIndex;
  readonly server: HttpServer;
  /** GETs `path` and parses the JSON body. */
  getJson<T = any>(path: string): Promise<{ status: number; body: T; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

export async function startVisualizer(
  opts: { kinds?: ActorKind[]; route?: Partial<VisualizerOptions>; runtime?: Parameters<typeof createTestRuntime>[2] } = {},
): Promise<VisualizerFixture> {
  const dir = tempDir('parley-viz-');
  const kinds = opts.kinds ?? [roomKind()];
  const rt = createTestRuntime(dir.path, kinds, opts.runtime);
  const index = new ActorIndex(rt.supervisor.inspection);
  const server = await createHttpServer({
    listen: { port: 0 },
    logger: pino({ level: 'silent' }),
    routes: visualizerRoutes({ supervisor: rt.supervisor, kinds, index, clock: rt.clock, ...opts.route }),
  });
  return {
    rt,
    index,
    server,
    getJson: (path) => getJson(server.url + path),
    async close() {
      await server.close();
      index.close();
      await rt.close();
      dir.remove();
    },
  };
}

export function getJson<T = any>(url: string): Promise<{ status: number; body: T; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T, headers: res.headers });
        } catch (err) {
          reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)}`));
        }
      });
    }).on('error', reject);
  });
}

/** Lets the inspection stream deliver what was published (it drains on a later macrotask). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

/** How tests make participants come and go in a room. */
export interface RoomDriver {
  join(room: string, who: string): Promise<void>;
  ack(room: string, who: string): Promise<void>;
  leave(room: string, who: string): Promise<void>;
}

export const participantInfo = (who: string): ParticipantInfo => ({
  id: `dlg-${who}`,
  uri: `sip:${who}@example.com`,
  displayName: who[0].toUpperCase() + who.slice(1),
  dialog: { callId: `call-${who}` },
  session: { id: `msrp-${who}` },
});

/** Domain events straight to the supervisor (no SIP, no MSRP: hundreds of rooms in a moment). */
export function dispatchingDriver(supervisor: Supervisor, clock: { now(): number }): RoomDriver {
  const send = async (room: string, event: Parameters<Supervisor['dispatch']>[2], create = false) => {
    const r = await supervisor.dispatch('room', room, event, { create });
    if (r !== 'ok') throw new Error(`room ${room} refused ${event.type}: ${r}`);
  };
  return {
    join: (room, who) => send(room, conferenceEvents.join(participantInfo(who), `req-${who}`, clock.now()), true),
    ack: (room, who) => send(room, conferenceEvents.ackReceived(`dlg-${who}`)),
    leave: (room, who) => send(room, conferenceEvents.left(`dlg-${who}`, 'bye')),
  };
}
