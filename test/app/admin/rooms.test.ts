/**
 * The rooms admin API over a real socket on a whole server (LMDB in a temp dir, simulated
 * clock): provisioning static rooms, validation with precise 400/404/409/413/415 answers,
 * policy and history-size changes, deletion with BYEs, a restart, and a static room that
 * outlives its last participant while an ad-hoc one does not.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectionRecord } from '../../../src/actors/inspection.js';
import { conferenceEvents } from '../../../src/machines/conference.js';
import { participantInfo, settle } from '../../transport/http/fixture.js';
import { roomPath, startAdminServer, type AdminFixture } from './fixture.js';

const DEV = 'sip:dev@conference.parley.example';

async function join(f: AdminFixture, room: string, who: string, create = false): Promise<void> {
  const sup = f.server.supervisor;
  assert.equal(await sup.dispatch('room', room, conferenceEvents.join(participantInfo(who), `req-${who}`, f.clock.now()), { create }), 'ok');
  assert.equal(await sup.dispatch('room', room, conferenceEvents.ackReceived(`dlg-${who}`)), 'ok');
}

async function leave(f: AdminFixture, room: string, who: string): Promise<void> {
  assert.equal(await f.server.supervisor.dispatch('room', room, conferenceEvents.left(`dlg-${who}`, 'bye')), 'ok');
}

describe('rooms admin API', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdminServer();
  });
  after(async () => {
    await f.close();
  });

  it('creates a static room with its policy and history size, answering 201 with its Location', async () => {
    const r = await f.call('POST', '/api/admin/rooms', {
      room: 'sip:dev@Conference.Parley.Example;transport=tcp',
      policy: { join: { allow: ['@example.com'], deny: ['sip:mallory@example.com'] }, owners: ['sip:boss@example.com'], moderators: ['sip:mod@example.com'] },
      historySize: 20,
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('location'), roomPath(DEV));
    assert.equal(r.body.room, DEV, 'the room is keyed by its canonical URI');
    assert.equal(r.body.state, 'open');
    assert.equal(r.body.static, true);
    assert.equal(r.body.historySize, 20);
    assert.deepEqual(r.body.policy, {
      create: { allow: ['*'], deny: [] },
      join: { allow: ['@example.com'], deny: ['sip:mallory@example.com'] },
      owners: ['sip:boss@example.com'],
      moderators: ['sip:mod@example.com'],
    });
    assert.deepEqual(r.body.participants, []);
    const shown = await f.call('GET', roomPath(DEV));
    assert.equal(shown.status, 200);
    assert.deepEqual(shown.body, r.body);
  });

  it('answers 409 to a second create of the same room, whatever its spelling', async () => {
    const r = await f.call('POST', '/api/admin/rooms', { room: 'sips:dev@conference.parley.example' });
    assert.equal(r.status, 409);
    assert.match(r.body.error.message, /already exists \(static\)/);
  });

  it('refuses bad input with 400 naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ room: 'dev@conference' }, /^room: "dev@conference" is not a valid SIP URI/],
      [{ room: 'sip:conference.parley.example' }, /^room: .*user part/],
      [{ room: 'tel:+123' }, /^room: .*sip: or sips:/],
      [{ room: 42 }, /^room: expected a SIP URI/],
      [{ room: `sip:${'a'.repeat(260)}@x.example` }, /^room: longer than 256/],
      [{ room: 'sip:a@x.example', moderators: [] }, /^body: unknown field "moderators"/],
      [{ room: 'sip:a@x.example', policy: { join: { allow: ['bob'] } } }, /^policy\.join\.allow\[0\]: "bob" is neither/],
      [{ room: 'sip:a@x.example', policy: { owners: ['@bad domain'] } }, /^policy\.owners\[0\]: "@bad domain" is not @ followed by a domain/],
      [{ room: 'sip:a@x.example', policy: { owners: 'sip:boss@example.com' } }, /^policy\.owners: expected an array/],
      [{ room: 'sip:a@x.example', policy: { owners: Array.from({ length: 1001 }, (_, i) => `sip:u${i}@example.com`) } }, /^policy\.owners: more than 1000 entries/],
      [{ room: 'sip:a@x.example', policy: { join: { allow: [], block: [] } } }, /^policy\.join: unknown field "block"/],
      [{ room: 'sip:a@x.example', historySize: 1001 }, /^historySize: expected an integer from 0 to 1000/],
      [{ room: 'sip:a@x.example', historySize: 2.5 }, /^historySize: expected an integer/],
      [[1, 2], /^body: expected a JSON object/],
    ];
    for (const [body, message] of cases) {
      const r = await f.call('POST', '/api/admin/rooms', body);
      assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
      assert.match(r.body.error.message, message);
    }
    assert.equal((await f.call('GET', roomPath('sip:a@x.example'))).status, 404, 'nothing was created');
  });

  it('answers 400 for broken JSON or no body, 415 for another content type, 413 over 64 KiB', async () => {
    const broken = await f.call('POST', '/api/admin/rooms', '{"room": ');
    assert.equal(broken.status, 400);
    assert.match(broken.body.error.message, /not valid JSON/);
    const empty = await f.call('POST', '/api/admin/rooms');
    assert.equal(empty.status, 400);
    const form = await f.call('POST', '/api/admin/rooms', 'room=sip:a@x.example', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    const big = await f.call('POST', '/api/admin/rooms', { room: 'sip:a@x.example', pad: 'x'.repeat(70_000) });
    assert.equal(big.status, 413);
    assert.match(big.body.error.message, /over 65536 bytes/);
  });

  it('answers 404 for an unknown room, 400 for a path that is no URI, 405 for a wrong method', async () => {
    const missing = await f.call('GET', roomPath('sip:nobody@conference.parley.example'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, 'no room sip:nobody@conference.parley.example');
    assert.equal((await f.call('GET', roomPath('not a uri'))).status, 400);
    assert.equal((await f.call('DELETE', roomPath('sip:nobody@conference.parley.example'))).status, 404);
    assert.equal((await f.call('PATCH', roomPath('sip:nobody@conference.parley.example'), { historySize: 3 })).status, 404);
    const put = await f.call('PUT', '/api/admin/rooms', {});
    assert.equal(put.status, 405);
    assert.match(put.headers.get('allow') ?? '', /POST/);
  });

  it('changes owners and moderators, keeping the join lists; changes the history size alone', async () => {
    const owners = await f.call('PATCH', roomPath(DEV), { policy: { owners: ['sip:boss2@example.com'], moderators: [] } });
    assert.equal(owners.status, 200);
    assert.deepEqual(owners.body.policy.owners, ['sip:boss2@example.com']);
    assert.deepEqual(owners.body.policy.moderators, []);
    assert.deepEqual(owners.body.policy.join, { allow: ['@example.com'], deny: ['sip:mallory@example.com'] });
    assert.equal(owners.body.historySize, 20);
    const join = await f.call('PATCH', roomPath(DEV), { policy: { join: { deny: [] } } });
    assert.deepEqual(join.body.policy.join, { allow: ['@example.com'], deny: [] }, 'a list left out is kept');
    const history = await f.call('PATCH', roomPath(DEV), { historySize: 0 });
    assert.equal(history.body.historySize, 0);
    assert.deepEqual(history.body.policy.owners, ['sip:boss2@example.com']);
    const nothing = await f.call('PATCH', roomPath(DEV), {});
    assert.equal(nothing.status, 400);
    assert.match(nothing.body.error.message, /nothing to change/);
  });

  it('keeps a static room when its last participant leaves, and shows who is in it meanwhile', async () => {
    await join(f, DEV, 'alice');
    await join(f, DEV, 'bob');
    const shown = await f.call('GET', roomPath(DEV));
    assert.deepEqual(
      shown.body.participants.map((p: any) => [p.uri, p.displayName, p.status]),
      [['sip:alice@example.com', 'Alice', 'joined'], ['sip:bob@example.com', 'Bob', 'joined']],
    );
    assert.equal(shown.body.participants[0].since, new Date(f.clock.now()).toISOString());
    assert.ok(!JSON.stringify(shown.body).includes('msrp-alice'), 'MSRP sessions (secrets) are not shown');
    await leave(f, DEV, 'alice');
    await leave(f, DEV, 'bob');
    const after = await f.call('GET', roomPath(DEV));
    assert.equal(after.status, 200);
    assert.equal(after.body.state, 'open');
    assert.deepEqual(after.body.participants, []);
  });

  it('removes an ad-hoc room when its last participant leaves; an ad-hoc room cannot be changed or re-created', async () => {
    const adhoc = 'sip:chat@conference.parley.example';
    await join(f, adhoc, 'carol', true);
    const listed = await f.call('GET', '/api/admin/rooms?static=false');
    assert.deepEqual(listed.body.rooms, [{ room: adhoc, state: 'open', static: false, participants: 1, historySize: 50 }]);
    assert.equal((await f.call('PATCH', roomPath(adhoc), { historySize: 5 })).status, 409);
    const again = await f.call('POST', '/api/admin/rooms', { room: adhoc });
    assert.equal(again.status, 409);
    assert.match(again.body.error.message, /ad hoc/);
    await leave(f, adhoc, 'carol');
    assert.equal((await f.call('GET', roomPath(adhoc))).status, 404);
  });

  it('lists rooms in URI order, a page at a time, filtered by kind', async () => {
    for (const name of ['alpha', 'beta', 'gamma']) assert.equal((await f.call('POST', '/api/admin/rooms', { room: `sip:${name}@conference.parley.example` })).status, 201);
    const page1 = await f.call('GET', '/api/admin/rooms?limit=2');
    assert.deepEqual(page1.body.rooms.map((r: any) => r.room), ['sip:alpha@conference.parley.example', 'sip:beta@conference.parley.example']);
    assert.equal(page1.body.next, 'sip:beta@conference.parley.example');
    const page2 = await f.call('GET', `/api/admin/rooms?limit=2&after=${encodeURIComponent(page1.body.next)}`);
    assert.deepEqual(page2.body.rooms.map((r: any) => r.room), [DEV, 'sip:gamma@conference.parley.example']);
    const statics = await f.call('GET', '/api/admin/rooms?static=true');
    assert.equal(statics.body.rooms.length, 4);
    assert.ok(statics.body.rooms.every((r: any) => r.static === true));
    assert.equal((await f.call('GET', '/api/admin/rooms?static=maybe')).status, 400);
    assert.equal((await f.call('GET', '/api/admin/rooms?limit=0')).status, 400);
  });

  it('keeps static rooms with their policy and history size across a restart', async () => {
    const before = (await f.call('GET', roomPath(DEV))).body;
    await f.restart();
    const after = await f.call('GET', roomPath(DEV));
    assert.equal(after.status, 200);
    assert.deepEqual(after.body, before);
    assert.equal((await f.call('GET', '/api/admin/rooms?static=true')).body.rooms.length, 4);
    // And the restored room still takes participants and outlives them.
    await join(f, DEV, 'dave');
    await leave(f, DEV, 'dave');
    assert.equal((await f.call('GET', roomPath(DEV))).body.static, true);
  });

  it('deletes a room: every participant gets a BYE and the room is gone, also after a restart', async () => {
    await join(f, DEV, 'erin');
    await join(f, DEV, 'frank');
    const seen: InspectionRecord[] = [];
    const sub = f.server.supervisor.inspection.subscribe((r) => seen.push(r));
    const r = await f.call('DELETE', roomPath(DEV));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { room: DEV, deleted: true, participants: 2 });
    await settle();
    sub.unsubscribe();
    const deleted = seen.find((x) => x.type === 'actor.event' && (x.event as { type: string }).type === 'ROOM_DELETED');
    assert.ok(deleted && deleted.type === 'actor.event');
    const byes = deleted.effects.filter((e: any) => e.type === 'sip.bye') as Array<{ dialog: unknown }>;
    assert.deepEqual(byes.map((e) => e.dialog), [{ callId: 'call-erin' }, { callId: 'call-frank' }]);
    assert.equal((await f.call('GET', roomPath(DEV))).status, 404);
    await f.restart();
    assert.equal((await f.call('GET', roomPath(DEV))).status, 404);
    assert.equal((await f.call('POST', '/api/admin/rooms', { room: DEV })).status, 201, 'the name is free again');
  });
});

describe('rooms admin API with a configured default policy', () => {
  it('starts a created room from the configured policy; what the request gives replaces those parts', async () => {
    const f = await startAdminServer({ '--room-join-allow': '@example.com', '--room-join-deny': 'sip:mallory@example.com', '--room-moderators': 'sip:mod@example.com' });
    try {
      const plain = await f.call('POST', '/api/admin/rooms', { room: DEV });
      assert.equal(plain.status, 201);
      assert.deepEqual(plain.body.policy, {
        create: { allow: ['*'], deny: [] },
        join: { allow: ['@example.com'], deny: ['sip:mallory@example.com'] },
        owners: [],
        moderators: ['sip:mod@example.com'],
      });
      const given = await f.call('POST', '/api/admin/rooms', { room: 'sip:ops@conference.parley.example', policy: { owners: ['sip:boss@example.com'], join: { allow: ['*'] } } });
      assert.equal(given.status, 201);
      assert.deepEqual(given.body.policy.join, { allow: ['*'], deny: ['sip:mallory@example.com'] });
      assert.deepEqual(given.body.policy.owners, ['sip:boss@example.com']);
      assert.deepEqual(given.body.policy.moderators, ['sip:mod@example.com']);
    } finally {
      await f.close();
    }
  });
});
