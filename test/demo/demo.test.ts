/**
 * `parley --demo` against a whole server on loopback: one round of each scenario, over real
 * SIP and MSRP (and the admin API for the static room), with the script's pauses scaled down
 * and a short room ACK timeout (the dropped joiner waits 300 ms, not 5 s). What the rooms went
 * through is read back from the visualizer's API, as the page reads it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { loopbackConfig } from '../helpers/config.js';
import { startServer, type Server } from '../../src/server.js';
import { startDemo, scenarios, type Demo } from '../../src/demo/index.js';
import { tempDir } from '../helpers/runtime.js';
import { getJson } from '../transport/http/fixture.js';

const logger = pino({ level: process.env.PARLEY_TEST_LOG ?? 'silent' });
const STANDUP = 'sip:standup@conference.parley.example';
const COFFEE = 'sip:coffee@conference.parley.example';

interface Entry {
  kind: string;
  type: string;
  value?: unknown;
  event?: { type: string; reason?: string };
}

/** True when `want` appears in `have` in this order (other entries may come between). */
function inOrder(have: readonly string[], want: readonly string[]): boolean {
  let i = 0;
  for (const t of have) if (t === want[i]) i++;
  return i === want.length;
}

test('the demo runs every scenario over SIP/MSRP: rooms fill, chat, drop a joiner without ACK, kick, empty and close', { timeout: 60_000 }, async () => {
  const dir = tempDir('parley-demo-');
  const config = loopbackConfig(dir.path, { roomAckTimeoutMs: 300 });
  let server: Server | undefined;
  let demo: Demo | undefined;
  try {
    server = await startServer(config, { logger });
    const base = `http://127.0.0.1:${server.addresses.http.port}`;
    const rounds = new Map<string, { resolve: () => void; reject: (e: unknown) => void; done: Promise<void> }>();
    for (const { name } of scenarios) {
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      rounds.set(name, { resolve, reject, done });
    }
    demo = await startDemo(server, logger, {
      pace: 0.02,
      // The first round is what the test reads; the next waits long enough not to mix in.
      roundGapMs: 500_000,
      onRound: (name, _round, err) => (err === undefined ? rounds.get(name)?.resolve() : rounds.get(name)?.reject(err)),
    });
    await Promise.all([...rounds.values()].map((r) => r.done));

    const standup = (await getJson<{ events: Entry[] }>(`${base}/api/actors/room/${encodeURIComponent(STANDUP)}/events`)).body.events;
    const types = standup.filter((e) => e.kind === 'event').map((e) => e.type);
    assert.ok(
      inOrder(types, ['ROOM_PROVISIONED', 'JOIN', 'ACK_RECEIVED', 'MESSAGE_RECEIVED', 'JOIN', 'ACK_RECEIVED', 'NICKNAME_REQUESTED', 'JOIN', 'ACK_RECEIVED', 'JOIN', 'ACK_TIMEOUT', 'JOIN', 'ACK_RECEIVED', 'MESSAGE_RECEIVED', 'KICK', 'LEFT', 'LEFT', 'LEFT', 'ROOM_DELETED']),
      types.join(' '),
    );
    assert.equal(types.filter((t) => t === 'JOIN').length, 5, 'alice, bob, carol, dave, mallory');
    assert.equal(types.filter((t) => t === 'ACK_RECEIVED').length, 4, 'everyone but dave');
    assert.ok(types.filter((t) => t === 'MESSAGE_RECEIVED').length >= 6);
    // The room's own BYEs: dave's for want of an ACK, mallory's for the kick; the others left by BYE.
    assert.deepEqual(standup.filter((e) => e.type === 'LEFT').map((e) => e.event?.reason), ['bye', 'bye', 'bye']);
    assert.equal(standup.at(-1)?.kind, 'stopped', 'the deleted room is gone');

    const coffee = (await getJson<{ events: Entry[] }>(`${base}/api/actors/room/${encodeURIComponent(COFFEE)}/events`)).body.events;
    assert.deepEqual(
      coffee.map((e) => (e.kind === 'event' ? e.type : e.kind)),
      ['created', 'JOIN', 'ACK_RECEIVED', 'JOIN', 'ACK_RECEIVED', 'MESSAGE_RECEIVED', 'MESSAGE_RECEIVED', 'LEFT', 'LEFT', 'stopped'],
    );
    assert.equal(coffee.filter((e) => e.kind === 'event').at(-1)?.value, 'closed', 'the ad-hoc room closed with its last participant');

    // Between rounds nobody is left in a room.
    const rooms = (await getJson<{ items: Array<{ key: string }> }>(`${base}/api/actors?kind=room`)).body.items;
    assert.deepEqual(rooms, []);
  } finally {
    await demo?.stop();
    await server?.stop();
    dir.remove();
  }
});
