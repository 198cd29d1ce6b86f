import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { conferenceEvents } from '../../../src/machines/conference.js';
import { dispatchingDriver, settle, startVisualizer, type VisualizerFixture } from './fixture.js';
import { readSse } from './sseClient.js';

const ROOM = 'sip:live@conf.example.com';

describe('GET /api/stream', () => {
  let f: VisualizerFixture;
  before(async () => {
    f = await startVisualizer({ route: { streamQueueLimit: 20 } });
  });
  after(() => f.close());

  it('delivers inspection records of one actor as server-sent events, with sequence numbers', async () => {
    const sse = await readSse(`${f.server.url}/api/stream?kind=room&key=${encodeURIComponent(ROOM)}`);
    assert.equal(sse.response.headers['content-type'], 'text/event-stream; charset=utf-8');
    await sse.waitFor((m) => m.event === 'hello');
    const drive = dispatchingDriver(f.rt.supervisor, f.rt.clock);
    await drive.join('sip:other@conf.example.com', 'zed');
    await drive.join(ROOM, 'alice');
    const ev = await sse.waitFor((m) => m.data.includes('"actor.event"'));
    const rec = JSON.parse(ev.data);
    assert.equal(rec.key, ROOM, 'records of other actors are filtered out');
    assert.equal(rec.event.type, 'JOIN');
    assert.equal(rec.before.value, 'idle');
    assert.equal(rec.after.value, 'open');
    const armed = JSON.parse((await sse.waitFor((m) => m.data.includes('"timer.armed"'))).data);
    assert.equal(armed.timerId, 'ack:dlg-alice');
    assert.ok(armed.seq > rec.seq);
    assert.ok(!sse.messages.some((m) => m.data.includes('sip:other@')));
    sse.close();
  });

  it('sends brief records (summary, no context) for the actor list', async () => {
    const sse = await readSse(`${f.server.url}/api/stream?brief=1`);
    await sse.waitFor((m) => m.event === 'hello');
    await dispatchingDriver(f.rt.supervisor, f.rt.clock).join(ROOM, 'bob');
    const rec = JSON.parse((await sse.waitFor((m) => m.data.includes('"actor.event"'))).data);
    assert.deepEqual([rec.kind, rec.key, rec.event, rec.value, rec.summary], ['room', ROOM, 'JOIN', 'open', '2 participants']);
    assert.equal(rec.before, undefined);
    assert.equal(rec.context, undefined);
    sse.close();
  });

  it('tells a client that does not read how many records it lost, and keeps its queue bounded', async () => {
    const sse = await readSse(`${f.server.url}/api/stream`, { paused: true });
    const drive = dispatchingDriver(f.rt.supervisor, f.rt.clock);
    // Enough bytes to fill the socket buffers of a client that reads nothing, then 20 more.
    const big = 'x'.repeat(50_000);
    for (let i = 0; i < 400; i++) {
      const p = { id: 'p', uri: 'sip:u@example.com', displayName: big, dialog: {}, session: {} };
      await f.rt.supervisor.dispatch('room', `sip:flood-${i}@conf.example.com`, conferenceEvents.join(p, 'r', 0), { create: true });
    }
    await drive.join(ROOM, 'carol');
    await settle();
    sse.response.resume();
    const dropped = await sse.waitFor((m) => m.event === 'dropped');
    assert.ok(JSON.parse(dropped.data).dropped > 0);
    const last = await sse.waitFor((m) => m.data.includes('dlg-carol') && m.data.includes('"actor.event"'));
    assert.ok(sse.messages.indexOf(last) > sse.messages.indexOf(dropped), 'the newest records survive the drop');
    const flood = sse.messages.filter((m) => m.data.includes('sip:flood-')).length;
    assert.ok(flood < 400 * 3, `lost some of the ${400 * 3} flood records (got ${flood})`);
    sse.close();
  });
});
