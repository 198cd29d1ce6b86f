import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dispatchingDriver, settle, startVisualizer, type RoomDriver, type VisualizerFixture } from './fixture.js';

const ROOM = 'sip:dev@conf.example.com';
const enc = encodeURIComponent;

describe('visualizer HTTP API', () => {
  let f: VisualizerFixture;
  let drive: RoomDriver;
  before(async () => {
    f = await startVisualizer();
    drive = dispatchingDriver(f.rt.supervisor, f.rt.clock);
  });
  after(() => f.close());

  it('lists kinds with their statechart, transitions labelled by event and guard', async () => {
    const { status, body } = await f.getJson('/api/kinds');
    assert.equal(status, 200);
    const room = body.kinds.find((k: any) => k.name === 'room');
    assert.equal(room.chart.id, 'conference');
    assert.deepEqual(room.chart.initial, ['conference.idle']);
    assert.deepEqual(room.chart.children.map((c: any) => [c.key, c.type]), [['idle', 'atomic'], ['open', 'atomic'], ['closed', 'final']]);
    const idle = room.chart.children[0];
    assert.deepEqual(idle.transitions.map((t: any) => [t.label, t.targets]), [
      ['JOIN [mayCreate]', ['conference.open']],
      ['JOIN', ['conference.closed']],
      ['ROOM_PROVISIONED', ['conference.open']],
    ]);
    const open = room.chart.children[1];
    assert.ok(open.transitions.some((t: any) => t.kind === 'always' && t.label === 'always [isEmptyAdhoc]'));
    assert.ok(open.transitions.some((t: any) => t.label === 'ACK_RECEIVED' && t.targets.length === 0));
  });

  it('shows a room after a join: state, summary, the pending ACK timer and its events', async () => {
    await drive.join(ROOM, 'alice');
    await settle();
    const { status, body } = await f.getJson(`/api/actors/room/${enc(ROOM)}`);
    assert.equal(status, 200);
    assert.equal(body.status, 'active');
    assert.equal(body.state, 'open');
    assert.deepEqual(body.active, ['conference', 'conference.open']);
    assert.equal(body.summary, '1 participant');
    assert.equal(body.context.participants['dlg-alice'].status, 'expected');
    assert.deepEqual(body.timers.map((t: any) => [t.id, t.due - body.now, t.event.type]), [['ack:dlg-alice', 5000, 'ACK_TIMEOUT']]);
    assert.deepEqual(body.events.map((e: any) => [e.kind, e.type, e.value]), [['created', 'created', 'idle'], ['event', 'JOIN', 'open']]);
  });

  it('gives each recent event the snapshot before and after', async () => {
    await drive.ack(ROOM, 'alice');
    await settle();
    const { body } = await f.getJson(`/api/actors/room/${enc(ROOM)}/events`);
    const ack = body.events.find((e: any) => e.type === 'ACK_RECEIVED');
    assert.equal(ack.before.context.participants['dlg-alice'].status, 'expected');
    assert.equal(ack.after.context.participants['dlg-alice'].status, 'joined');
    assert.equal(ack.value, 'open');
    const newer = await f.getJson(`/api/actors/room/${enc(ROOM)}/events?after=${ack.seq}`);
    assert.deepEqual(newer.body.events, []);
    const detail = await f.getJson(`/api/actors/room/${enc(ROOM)}`);
    assert.deepEqual(detail.body.timers, [], 'the ACK cancelled the timer');
  });

  it('lists actors with state, summary and timers, searchable by key and state', async () => {
    await drive.join('sip:ops@conf.example.com', 'bob');
    await drive.join('sip:sales@conf.example.com', 'carol');
    await settle();
    const all = await f.getJson('/api/actors?kind=room');
    assert.deepEqual(all.body.items.map((r: any) => r.key), ['sip:dev@conf.example.com', 'sip:ops@conf.example.com', 'sip:sales@conf.example.com']);
    const ops = all.body.items[1];
    assert.equal(ops.state, 'open');
    assert.equal(ops.summary, '1 participant');
    assert.equal(ops.timers, 1);
    assert.equal(ops.nextDue, f.rt.clock.now() + 5000);
    assert.equal(all.body.next, null);
    const byKey = await f.getJson('/api/actors?q=OPS');
    assert.deepEqual(byKey.body.items.map((r: any) => r.key), ['sip:ops@conf.example.com']);
    const byState = await f.getJson('/api/actors?state=closed');
    assert.deepEqual(byState.body.items, []);
    const byOpen = await f.getJson('/api/actors?state=open&limit=2');
    assert.equal(byOpen.body.items.length, 2);
    const rest = await f.getJson(`/api/actors?state=open&limit=2&after=${enc(byOpen.body.next)}`);
    assert.deepEqual(rest.body.items.map((r: any) => r.key), ['sip:sales@conf.example.com']);
    assert.equal(rest.body.next, null);
  });

  it('still shows a room that closed (deleted from LMDB) in its final state', async () => {
    await drive.leave(ROOM, 'alice');
    await settle();
    const { status, body } = await f.getJson(`/api/actors/room/${enc(ROOM)}`);
    assert.equal(status, 200);
    assert.equal(body.status, 'stopped');
    assert.equal(body.state, 'closed');
    assert.deepEqual(body.active, ['conference', 'conference.closed']);
    assert.equal(body.events.at(-1).kind, 'stopped');
    const listed = await f.getJson(`/api/actors?q=dev`);
    assert.deepEqual(listed.body.items, []);
  });

  it('answers 404 for unknown actors and kinds, 400 for a bad cursor, 405 for writes', async () => {
    assert.equal((await f.getJson(`/api/actors/room/${enc('sip:nobody@x')}`)).status, 404);
    assert.equal((await f.getJson(`/api/actors/mailbox/x`)).status, 404);
    assert.equal((await f.getJson(`/api/actors?kind=nope`)).status, 404);
    const bad = await f.getJson(`/api/actors?after=zz`);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /cursor/);
    const res = await fetch(`${f.server.url}/api/kinds`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET');
  });

  it('serves the page and the elkjs bundle, and nothing outside the page directory', async () => {
    const page = await fetch(`${f.server.url}/visualize/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const elk = await fetch(`${f.server.url}/vendor/elk.bundled.js`);
    assert.equal(elk.status, 200);
    assert.match(await elk.text(), /ELK/);
    for (const p of ['/visualize/..%2Fpackage.json', '/visualize/%2e%2e/package.json', '/visualize/.hidden']) {
      assert.equal((await fetch(`${f.server.url}${p}`)).status, 404, p);
    }
    const root = await fetch(`${f.server.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/visualize/');
  });
});
