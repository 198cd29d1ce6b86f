/**
 * The room's bounded relay and its history store: a participant who does not keep up (here:
 * joined but never opens its MSRP connection, so everything the room sends it waits) is
 * dropped once its outbox holds more than the limit, with a BYE whose Reason says why and a
 * notice to the others; the history keeps the newest N per room, catches up when N is
 * lowered, and goes with the room.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { SimulatedClock } from '../../../src/clock.js';
import { Store } from '../../../src/actors/store.js';
import { createRoomApplication } from '../../../src/app/room/application.js';
import { RoomHistory } from '../../../src/app/room/history.js';
import type { RoomMessage } from '../../../src/machines/effects.js';
import type { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import { tempDir } from '../../helpers/runtime.js';
import { SIPP } from '../../helpers/sipp.js';
import { ChatClient, describeRun, DOMAIN, msrpClientEndpoint, participantOf, scenario, sipp, startParley, testConfig, until, type Parley } from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const ROOM = `sip:slow@${DOMAIN}`;

describe('a slow participant', { skip, concurrency: false }, () => {
  const dir = tempDir('parley-room-slow-');
  const clock = new SimulatedClock(Date.now());
  let p: Parley;
  let endpoint: MsrpEndpoint;

  before(async () => {
    p = await startParley(testConfig(dir.path), clock, (ctx) => [
      createRoomApplication({
        store: ctx.store, sip: ctx.sip, msrp: ctx.msrp, clock: ctx.clock, logger: ctx.logger, domains: ctx.config.conferenceDomains,
        dispatcher: () => ctx.supervisor, relayLimits: { maxQueued: 3, maxQueuedBytes: 1 << 20 },
      }),
    ]);
    endpoint = await msrpClientEndpoint();
  });
  after(async () => {
    await endpoint?.close();
    await p?.server.stop();
    dir.remove();
  });

  it('is dropped with a BYE and a notice once more than the limit waits for it', async () => {
    const alice = new ChatClient(endpoint, 'alice');
    const aliceCall = sipp({ scenario: scenario('room-participant.xml'), port: p.sipPort, keys: { user: 'alice', room: 'slow', msrp_path: alice.path } });
    await until(() => participantOf(p, ROOM, 'alice')?.status === 'joined', 'alice joined');
    await alice.connect(p, ROOM);
    const sloth = new ChatClient(endpoint, 'sloth');
    const slothCall = sipp({ scenario: scenario('room-participant.xml'), port: p.sipPort, keys: { user: 'sloth', room: 'slow', msrp_path: sloth.path } });
    await until(() => participantOf(p, ROOM, 'sloth')?.status === 'joined', 'sloth joined (its welcome waits: it never connects)');
    for (let i = 0; i < 3; i++) assert.equal(await alice.say(`msg ${i}`, { room: ROOM }), 200);
    const r = await slothCall.done;
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.messages, /Reason: SIP;cause=200;text="Too slow to keep up with the room"/);
    await until(() => alice.notices(ROOM).includes('sloth was dropped (too slow to keep up)'), 'notice to alice');
    assert.equal(participantOf(p, ROOM, 'sloth'), undefined);
    assert.equal(participantOf(p, ROOM, 'alice')?.status, 'joined');
    aliceCall.kill();
  });
});

describe('a participant that never opens its MSRP connection', { skip, concurrency: false }, () => {
  const dir = tempDir('parley-room-noconn-');
  const clock = new SimulatedClock(Date.now());
  let p: Parley;
  let endpoint: MsrpEndpoint;

  before(async () => {
    p = await startParley(testConfig(dir.path), clock);
    endpoint = await msrpClientEndpoint();
  });
  after(async () => {
    await endpoint?.close();
    await p?.server.stop();
    dir.remove();
  });

  it('is dropped with a BYE 30 s (simulated) after joining', async () => {
    const ghost = new ChatClient(endpoint, 'ghost');
    const call = sipp({ scenario: scenario('room-participant.xml'), port: p.sipPort, keys: { user: 'ghost', room: 'slow', msrp_path: ghost.path } });
    await until(() => participantOf(p, ROOM, 'ghost')?.status === 'joined', 'ghost joined');
    clock.advance(29_000);
    assert.equal(participantOf(p, ROOM, 'ghost')?.status, 'joined');
    clock.advance(1_000);
    const r = await call.done;
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.messages, /Reason: SIP;cause=200;text="MSRP connection lost"/);
    await until(() => p.server.supervisor.peek('room', ROOM) === undefined, 'ad-hoc room ended');
  });
});

describe('the default room policy from the configuration', { skip, concurrency: false }, () => {
  const dir = tempDir('parley-room-policy-');
  const clock = new SimulatedClock(Date.now());
  let p: Parley;

  before(async () => {
    p = await startParley(testConfig(dir.path, { roomCreateAllow: ['@example.org'] }), clock);
  });
  after(async () => {
    await p?.server.stop();
    dir.remove();
  });

  it('refuses to create an ad-hoc room for someone it does not allow (403), and no room stays', async () => {
    const r = await sipp({ scenario: scenario('room-join-403.xml'), port: p.sipPort, keys: { user: 'frank', room: 'newroom' } }).done;
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.messages, /403 create not allowed for sip:frank@example.com/);
    await until(() => p.server.supervisor.peek('room', `sip:newroom@${DOMAIN}`) === undefined, 'no room');
  });
});

test('history keeps the newest N per room, catches up when N is lowered, and is cleared with the room', async () => {
  const dir = tempDir('parley-history-');
  const store = new Store({ path: dir.path });
  try {
    const h = new RoomHistory(store);
    const msg = (i: number): RoomMessage => ({ from: 'sip:a@x', to: 'sip:r@c', dateTime: new Date(i * 1000).toISOString(), contentType: 'text/plain', body: Buffer.from(`m${i}`).toString('base64') });
    const append = (room: string, limit: number, i: number) => Store.issue(h.appendWrites(room, limit, msg(i)));
    for (let i = 1; i <= 7; i++) await append('r1', 5, i);
    await append('r2', 5, 100);
    assert.equal(h.count('r1'), 5);
    assert.deepEqual(h.latest('r1', 10).map((m) => m.seq), [3, 4, 5, 6, 7]);
    assert.deepEqual(h.latest('r1', 2).map((m) => Buffer.from(m.body, 'base64').toString()), ['m6', 'm7']);
    await append('r1', 2, 8);
    assert.deepEqual(h.latest('r1', 10).map((m) => m.seq), [7, 8]);
    // A new RoomHistory (a restart) continues the sequence.
    const h2 = new RoomHistory(store);
    await Store.issue(h2.appendWrites('r1', 2, msg(9)));
    assert.deepEqual(h2.latest('r1', 10).map((m) => m.seq), [8, 9]);
    await Store.issue(h2.clearWrites('r1'));
    assert.equal(h2.count('r1'), 0);
    assert.equal(h2.count('r2'), 1);
  } finally {
    await store.close();
    dir.remove();
  }
});
