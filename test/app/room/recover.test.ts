/**
 * Start after a run that left participants in persisted rooms: their MSRP sessions died with
 * the old process, so the new one drops every one of them, paging through the rooms (more
 * rooms than one page here) while it already takes requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from '../../../src/clock.js';
import { Store, type ActorRecord } from '../../../src/actors/store.js';
import { conferenceEvents as ev, type ConferenceContext } from '../../../src/machines/conference.js';
import { tempDir } from '../../helpers/runtime.js';
import { DOMAIN, startParley, testConfig, until, uriOf } from './fixture.js';

const ROOMS = 1_201;
const roomUri = (i: number) => `sip:r${i}@${DOMAIN}`;

test('participants an earlier run left in 1,201 persisted rooms are all dropped at start, page by page', { timeout: 60_000 }, async () => {
  const dir = tempDir('parley-room-recover-');
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
  try {
    // One genuine room record with a joined participant, written by the room machine itself.
    let p = await startParley(testConfig(dir.path), clock);
    const alice = { id: 'd-alice', uri: uriOf('alice'), dialog: { callId: 'c1' }, session: 's-alice' };
    assert.equal(await p.server.supervisor.dispatch('room', roomUri(0), ev.join(alice, 'q1', clock.now()), { create: true }), 'ok');
    assert.equal(await p.server.supervisor.dispatch('room', roomUri(0), ev.ackReceived('d-alice')), 'ok');
    await p.server.stop();

    // The same record under 1,200 more rooms, as if the old run had hosted them all.
    const store = new Store({ path: dir.path });
    const record = store.snapshots.get(['room', roomUri(0)]) as ActorRecord;
    assert.equal(Object.keys((record.context as ConferenceContext).participants).length, 1);
    for (let i = 1; i < ROOMS; i++) void store.snapshots.put(['room', roomUri(i)], { ...record, context: { ...(record.context as ConferenceContext), room: roomUri(i) } });
    await store.close();

    p = await startParley(testConfig(dir.path), clock);
    const left = () => [...p.server.supervisor.listPersisted({ kind: 'room' })].length;
    await until(() => left() === 0, 'every ad-hoc room emptied and closed', 30_000);
    await p.server.stop();
  } finally {
    dir.remove();
  }
});
