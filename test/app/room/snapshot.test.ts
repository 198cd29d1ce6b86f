/**
 * The room's hot path on the real runtime: a relayed chat message commits its history row
 * but does not rewrite the room's snapshot (issue 5: no full snapshot write per message in a
 * 100-participant room), and its MSRP answer and relay go out only after that commit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Effect } from '../../../src/actors/effects.js';
import { roomKind } from '../../../src/actors/roomKind.js';
import { RoomHistory } from '../../../src/app/room/history.js';
import { conferenceEvents as ev } from '../../../src/machines/conference.js';
import type { RoomEffect } from '../../../src/machines/effects.js';
import { createTestRuntime, tempDir } from '../../helpers/runtime.js';

const ROOM = 'sip:big@conference.example';

test('a relayed message writes one history row and leaves the 100-participant snapshot as it was', async () => {
  const dir = tempDir('parley-room-snap-');
  let history!: RoomHistory;
  const rt = createTestRuntime(dir.path, [roomKind()], {
    storeWrites: (e: Effect) => {
      const r = e as unknown as RoomEffect;
      if (r.type === 'store.appendHistory') return history.appendWrites(r.room, r.limit, r.message);
      if (r.type === 'store.clearHistory') return history.clearWrites(r.room);
      return [];
    },
  });
  history = new RoomHistory(rt.store);
  try {
    for (let i = 0; i < 100; i++) {
      const p = { id: `d${i}`, uri: `sip:u${i}@example.com`, dialog: { callId: `c${i}`, remoteTarget: `sip:u${i}@10.0.0.1` }, session: `s${i}` };
      await rt.supervisor.dispatch('room', ROOM, ev.join(p, `r${i}`, rt.clock.now()), { create: true });
      await rt.supervisor.dispatch('room', ROOM, ev.ackReceived(p.id));
    }
    await rt.store.settled();
    const before = rt.store.snapshots.get(['room', ROOM]);
    assert.ok(before);
    const size = JSON.stringify(before).length;
    rt.clock.advance(1000);
    rt.executed.length = 0;
    const r = await rt.supervisor.dispatch('room', ROOM, ev.messageReceived({ participantId: 'd7', ref: 'm1', from: 'sip:u7@example.com', to: [ROOM], contentType: 'text/plain', body: Buffer.from('hello').toString('base64'), at: rt.clock.now() }));
    assert.equal(r, 'ok');
    await rt.store.settled();
    const after = rt.store.snapshots.get(['room', ROOM]);
    assert.equal(after?.lastEventAt, before.lastEventAt, `the ${size}-byte snapshot was not rewritten`);
    assert.equal(history.count(ROOM), 1);
    const types = rt.executed.map((x) => x.effect.type);
    assert.deepEqual(types, ['msrp.answer', 'msrp.relay']);
    assert.ok(rt.executed.every((x) => x.committedBefore));
    assert.equal((rt.executed[1].effect as unknown as { sessions: unknown[] }).sessions.length, 99);
    assert.ok(size > 10_000, `a 100-participant snapshot is large (${size} bytes)`);
  } finally {
    await rt.close();
    dir.remove();
  }
});
