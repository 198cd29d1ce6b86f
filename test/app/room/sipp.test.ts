/**
 * Chat rooms end to end over real sockets (issue 5): SIPp participants (UDP) joining a room of
 * a whole Parley on a SimulatedClock, each with an MSRP test client over TCP.
 *
 * Static room "dev" owned by alice, three participants: relayed to the others only, private
 * message to one only, 415 for non-CPIM, 403 for a forged CPIM From, nickname clash 425,
 * nicknames in relayed messages, kick by a participant refused (403) and by the owner done
 * (202, sipfrag NOTIFY, BYE); leaving by BYE. A restart keeps the static room and its history,
 * replayed to the next participant with original senders and times, then a welcome; losing
 * the MSRP connection ends the dialog with a BYE. Ad-hoc room: a joiner that never ACKs is
 * dropped after 5 s of simulated time with a BYE carrying a Reason, and the room ends.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { SimulatedClock } from '../../../src/clock.js';
import { conferenceEvents } from '../../../src/machines/conference.js';
import { buildIsComposing, IS_COMPOSING_CONTENT_TYPE } from '../../../src/formats/isComposing.js';
import { openPolicy } from '../../../src/machines/policy.js';
import { buildInDialogRequest, type DialogState } from '../../../src/transport/sip/dialog.js';
import { getHeader } from '../../../src/transport/sip/headers.js';
import type { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import { tempDir } from '../../helpers/runtime.js';
import { freePort, SIPP, udpBound } from '../../helpers/sipp.js';
import {
  ChatClient, describeRun, msrpClientEndpoint, participantOf, roomContext, scenario, sipp, startParley, testConfig, until, uriOf,
  readImdn, type Parley, type SippRun,
} from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const ROOM = 'sip:dev@conference.parley.example';
/** What the room's history holds by the end (the 200 KB message shown as BIG). */
const HISTORY = ['hello room', 'hi Al', 'public again', 'BIG', 'public again'];
const short = (t: string) => (t.length > 1000 ? 'BIG' : t);

/** True when a UDP socket is bound to the port (SIPp's UAS is up), read from /proc without binding it. */
interface Member {
  readonly client: ChatClient;
  readonly call: { done: Promise<SippRun>; kill(): void };
}

async function join(p: Parley, endpoint: MsrpEndpoint, user: string, room = ROOM): Promise<Member> {
  const client = new ChatClient(endpoint, user);
  const call = sipp({ scenario: scenario('room-participant.xml'), port: p.sipPort, keys: { user, room: room.slice(4, room.indexOf('@')), msrp_path: client.path } });
  await until(() => participantOf(p, room, user)?.status === 'joined', `${user} joined`);
  await client.connect(p, room);
  await until(() => client.notices(room).some((n) => n.startsWith('Welcome')), `${user} welcomed`);
  return { client, call };
}

/** Makes the SIPp participant hang up: an in-dialog INFO it answers, then its BYE. */
async function hangUp(p: Parley, user: string, room = ROOM): Promise<void> {
  const me = participantOf(p, room, user);
  assert.ok(me, `${user} is in the room`);
  const dialog = me.dialog as DialogState;
  const { request } = buildInDialogRequest({ ...dialog, localCSeq: dialog.localCSeq + 100 }, 'INFO');
  const r = await p.server.context.sip.sendRequest(request, { dialog });
  assert.equal(r.status, 200);
}

describe('chat room end to end with SIPp and MSRP', { skip, concurrency: false }, () => {
  const dir = tempDir('parley-room-');
  const clock = new SimulatedClock(Date.now());
  let p: Parley;
  let endpoint: MsrpEndpoint;
  let alice: Member;
  let bob: Member;
  let carol: Member;

  before(async () => {
    p = await startParley(testConfig(dir.path), clock);
    endpoint = await msrpClientEndpoint();
    // A static room owned by alice (as the admin API provisions one).
    assert.equal(await p.server.supervisor.dispatch('room', ROOM, conferenceEvents.provisioned({ ...openPolicy, owners: [uriOf('alice')] }), { create: true }), 'ok');
  });
  after(async () => {
    for (const m of [alice, bob, carol]) m?.call.kill();
    await endpoint?.close();
    await p?.server.stop();
    dir.remove();
  });

  it('three participants join: 200 with isfocus and a=chatroom (checked by SIPp), join notices to the others', async () => {
    alice = await join(p, endpoint, 'alice');
    bob = await join(p, endpoint, 'bob');
    carol = await join(p, endpoint, 'carol');
    await until(() => alice.client.notices(ROOM).includes('carol joined the room'), 'join notice');
    assert.ok(alice.client.notices(ROOM).includes('bob joined the room'));
    assert.equal(Object.keys(roomContext(p, ROOM)?.participants ?? {}).length, 3);
  });

  it('relays a message to every other participant and not back to its sender', async () => {
    assert.equal(await alice.client.say('hello room', { room: ROOM, imdnId: 'imdn-1' }), 200);
    await until(() => bob.client.chat(ROOM).length === 1 && carol.client.chat(ROOM).length === 1, 'relayed to bob and carol');
    for (const m of [bob, carol]) {
      const got = m.client.chat(ROOM)[0];
      // RFC 5438 headers ride along, so receipts can name the message.
      assert.equal(readImdn(got.cpim).messageId, 'imdn-1');
      assert.equal(got.text, 'hello room');
      assert.equal(got.from, uriOf('alice'));
      assert.equal(got.cpim.to[0].uri, ROOM);
      assert.ok(got.cpim.dateTime);
    }
    assert.equal(alice.client.chat(ROOM).length, 0);
    assert.equal(p.room.history.count(ROOM), 1);
  });

  it('refuses non-CPIM with 415 and a forged CPIM From with 403, relaying neither', async () => {
    assert.equal((await alice.client.session.send(Buffer.from('plain'), 'text/plain')).status, 415);
    assert.equal(await alice.client.say('I am bob', { room: ROOM, from: uriOf('bob') }), 403);
    assert.equal(p.room.history.count(ROOM), 1);
    assert.equal(bob.client.chat(ROOM).length, 1);
  });

  it('nicknames: 200, then 425 for the same name in another case; relayed with the nickname', async () => {
    assert.equal((await alice.client.session.sendNickname('Al')).status, 200);
    assert.equal((await bob.client.session.sendNickname('al')).status, 425);
    assert.equal((await bob.client.session.sendNickname('Bobby')).status, 200);
    assert.equal(await bob.client.say('hi Al', { room: ROOM }), 200);
    await until(() => alice.client.chat(ROOM).length === 1, 'relayed to alice');
    assert.equal(alice.client.chat(ROOM)[0].nickname, 'Bobby');
  });

  it('a private message reaches only its recipient', async () => {
    const before = { alice: alice.client.chat(ROOM).length, bob: bob.client.chat(ROOM).length, carol: carol.client.chat(ROOM).length };
    assert.equal(await bob.client.say('psst carol', { room: ROOM, to: uriOf('carol') }), 200);
    await until(() => carol.client.chat(ROOM).length === before.carol + 1, 'private to carol');
    const got = carol.client.chat(ROOM).at(-1);
    assert.equal(got?.text, 'psst carol');
    assert.equal(got?.cpim.to[0].uri, uriOf('carol'));
    // A public message after it arrives at alice: had the private one reached her, it would be first.
    assert.equal(await carol.client.say('public again', { room: ROOM }), 200);
    await until(() => alice.client.chat(ROOM).length === before.alice + 1, 'public to alice');
    assert.equal(alice.client.chat(ROOM).at(-1)?.text, 'public again');
    assert.equal(bob.client.chat(ROOM).length, before.bob + 1);
    assert.equal(await bob.client.say('to nobody', { room: ROOM, to: uriOf('zed') }), 403);
  });

  it('a large message (200 KB, 100 chunks) is relayed chunk by chunk while it arrives, then stored', async () => {
    const big = Array.from({ length: 20_000 }, (_, i) => `${i % 10}bcdefghij`).join('');
    const before = bob.client.chat(ROOM).length;
    let answeredAt = Infinity;
    const sent = carol.client.say(big, { room: ROOM }).then((status) => {
      answeredAt = performance.now();
      return status;
    });
    assert.equal(await sent, 200);
    await until(() => bob.client.chat(ROOM).length === before + 1, 'large message relayed');
    const got = bob.client.chat(ROOM).at(-1);
    assert.equal(got?.text, big);
    assert.equal(got?.nickname, undefined);
    assert.equal(got?.from, uriOf('carol'));
    // Its first chunk reached bob before carol's last chunk was answered (that answer waits for
    // the whole message and its commit): relayed without waiting for the whole.
    assert.ok((bob.client.firstChunkAt.get(got?.messageId ?? '') ?? Infinity) < answeredAt, 'streamed');
    // Kept out of the replay checks below: it is the newest history entry until the next one.
    assert.equal(await carol.client.say('public again', { room: ROOM }), 200);
    await until(() => bob.client.chat(ROOM).length === before + 2, 'next message relayed');
  });

  it('is-composing is relayed like a message and never stored', async () => {
    const stored = p.room.history.count(ROOM);
    const before = carol.client.chat(ROOM).length;
    const xml = buildIsComposing({ state: 'active', refresh: 60 });
    assert.equal(await alice.client.say(xml, { room: ROOM, contentType: IS_COMPOSING_CONTENT_TYPE }), 200);
    await until(() => carol.client.chat(ROOM).length === before + 1, 'composing relayed');
    assert.equal(carol.client.chat(ROOM).at(-1)?.cpim.contentType, IS_COMPOSING_CONTENT_TYPE);
    assert.equal(p.room.history.count(ROOM), stored);
  });

  it('kick: a participant gets 403; the owner removes carol (202, sipfrag NOTIFY, BYE to carol)', async () => {
    const refused = await sipp({ scenario: scenario('room-kick-refused.xml'), port: p.sipPort, keys: { user: 'bob', room: 'dev', target: 'carol' } }).done;
    assert.equal(refused.code, 0, describeRun(refused));
    const kicked = await sipp({ scenario: scenario('room-kick.xml'), port: p.sipPort, keys: { user: 'alice', room: 'dev', target: 'carol' } }).done;
    assert.equal(kicked.code, 0, describeRun(kicked));
    const carolCall = await carol.call.done;
    assert.equal(carolCall.code, 0, describeRun(carolCall));
    assert.match(carolCall.messages, /Reason: SIP;cause=200;text="Removed from the room"/);
    assert.equal(participantOf(p, ROOM, 'carol'), undefined);
    await until(() => alice.client.notices(ROOM).includes('sip:carol@example.com was removed from the room'), 'kick notice');
  });

  it('leaving with BYE: the room tells the others', async () => {
    await hangUp(p, 'bob');
    const r = await bob.call.done;
    assert.equal(r.code, 0, describeRun(r));
    await until(() => participantOf(p, ROOM, 'bob') === undefined, 'bob gone');
    await until(() => alice.client.notices(ROOM).includes('Bobby left the room'), 'leave notice');
  });

  it('invite by REFER: the room INVITEs the user (Referred-By, isfocus), reports 100 then 200 by sipfrag, and the user joins', async () => {
    const port = await freePort();
    const zoe = new ChatClient(endpoint, 'zoe');
    const uas = sipp({ scenario: scenario('room-invitee.xml'), port, keys: { msrp_path: zoe.path }, uas: true });
    await udpBound(port);
    const refer = await sipp({ scenario: scenario('room-refer-invite.xml'), port: p.sipPort, keys: { user: 'alice', room: 'dev', target: `sip:zoe@127.0.0.1:${port}` } }).done;
    assert.equal(refer.code, 0, describeRun(refer));
    const zoeIn = () => Object.values(roomContext(p, ROOM)?.participants ?? {}).find((x) => x.uri.startsWith('sip:zoe@127.0.0.1'));
    await until(() => zoeIn()?.status === 'joined', 'zoe joined');
    await zoe.connect(p, ROOM, zoeIn());
    await until(() => zoe.notices(ROOM).some((n) => n.startsWith('Welcome')), 'zoe welcomed');
    assert.deepEqual(zoe.chat(ROOM).map((r) => short(r.text)).slice(0, 5), HISTORY);
    await until(() => alice.client.notices(ROOM).includes('sip:zoe@127.0.0.1 joined the room'), 'join notice for zoe');
    // Her MSRP connection goes: the room ends her call.
    zoe.session.close('test');
    const r = await uas.done;
    assert.equal(r.code, 0, describeRun(r));
    await until(() => zoeIn() === undefined, 'zoe gone');
  });

  it('a restart keeps the static room and its history, replayed with senders and times before the welcome', async () => {
    const sent = bob.client.chat(ROOM)[0].cpim.dateTime;
    await p.server.stop();
    p = await startParley(testConfig(dir.path), clock);
    // alice was still in: her MSRP session died with the old process, so the new one ends her call.
    const gone = await alice.call.done;
    assert.equal(gone.code, 0, describeRun(gone));
    assert.match(gone.messages, /Reason: SIP;cause=200;text="MSRP connection lost"/);
    await until(() => participantOf(p, ROOM, 'alice') === undefined, 'alice dropped after the restart');
    const ctx = roomContext(p, ROOM);
    assert.equal(ctx?.isStatic, true);
    assert.deepEqual(ctx?.policy.owners, [uriOf('alice')]);
    const dave = await join(p, endpoint, 'dave');
    const texts = dave.client.received.map((r) => short(r.text));
    assert.deepEqual(texts.slice(0, 5), HISTORY);
    assert.equal(dave.client.received[0].from, uriOf('alice'));
    assert.equal(dave.client.received[0].cpim.dateTime, sent);
    assert.equal(dave.client.received[1].nickname, 'Bobby');
    assert.match(texts[5], /^Welcome/);

    // Losing the MSRP connection ends the participation with a BYE.
    dave.client.session.close('test');
    const r = await dave.call.done;
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.messages, /Reason: SIP;cause=200;text="MSRP connection lost"/);
    assert.equal(participantOf(p, ROOM, 'dave'), undefined);
  });

  it('a join without usable MSRP chat media gets 488; one the policy refuses gets 403; MESSAGE to a room 405; OPTIONS 200 with isfocus', async () => {
    const audio = await sipp({ scenario: scenario('room-join-488.xml'), port: p.sipPort, keys: { user: 'frank', room: 'dev' } }).done;
    assert.equal(audio.code, 0, describeRun(audio));
    const closed = 'sip:closed@conference.parley.example';
    const policy = { ...openPolicy, join: { allow: ['@example.org'], deny: [] } };
    assert.equal(await p.server.supervisor.dispatch('room', closed, conferenceEvents.provisioned(policy), { create: true }), 'ok');
    const refused = await sipp({ scenario: scenario('room-join-403.xml'), port: p.sipPort, keys: { user: 'frank', room: 'closed' } }).done;
    assert.equal(refused.code, 0, describeRun(refused));
    assert.deepEqual(roomContext(p, closed)?.participants, {});
    const to = { destination: { host: '127.0.0.1', port: p.sipPort, transport: 'udp' as const } };
    const msg = await p.server.context.sip.sendRequest({ method: 'MESSAGE', uri: ROOM, headers: [{ name: 'content-type', value: 'text/plain' }], body: 'hi' }, to);
    assert.equal(msg.status, 405);
    // Discovery (RFC 4579 5.2): OPTIONS to the room answers with the focus Contact.
    const opts = await p.server.context.sip.sendRequest({ method: 'OPTIONS', uri: ROOM }, to);
    assert.equal(opts.status, 200);
    assert.match(getHeader(opts, 'contact') ?? '', /^<sip:dev@127\.0\.0\.1:\d+>;isfocus$/);
    assert.match(getHeader(opts, 'allow-events') ?? '', /conference/);
    // OPTIONS elsewhere still gets the stack's answer (the server's fallback).
    assert.equal((await p.server.context.sip.sendRequest({ method: 'OPTIONS', uri: 'sip:127.0.0.1' }, to)).status, 200);
    // REFER (RFC 3515): exactly one Refer-To; `Refer-Sub: false` (RFC 4488) is accepted without a subscription.
    const refer = (headers: Array<{ name: string; value: string }>) => p.server.context.sip.sendRequest({ method: 'REFER', uri: ROOM, headers }, to);
    const two = await refer([{ name: 'refer-to', value: '<sip:x@127.0.0.1:9>' }, { name: 'refer-to', value: '<sip:y@127.0.0.1:9>' }]);
    assert.equal(two.status, 400);
    // From alice, the room's owner: she may invite (nobody answers at port 9; no NOTIFY to await).
    const noSub = await refer([{ name: 'from', value: `<${uriOf('alice')}>;tag=nosub` }, { name: 'refer-to', value: '<sip:x@127.0.0.1:9>' }, { name: 'refer-sub', value: 'false' }]);
    assert.equal(noSub.status, 202);
    assert.equal(getHeader(noSub, 'refer-sub'), 'false');
  });

  it('an INVITE with a dial-out list (RFC 5366) creates the room and, once its creator joined, REFERs each listed user to it', async () => {
    const party = 'sip:party@conference.parley.example';
    const port = await freePort();
    const referee = sipp({ scenario: scenario('room-referee.xml'), port, keys: {}, uas: true });
    await udpBound(port);
    const creator = new ChatClient(endpoint, 'alice');
    const call = sipp({ scenario: scenario('room-dialout.xml'), port: p.sipPort, keys: { user: 'alice', room: 'party', msrp_path: creator.path, invitee: `sip:yuri@127.0.0.1:${port}` } });
    const r = await referee.done;
    assert.equal(r.code, 0, describeRun(r));
    assert.equal(participantOf(p, party, 'alice')?.status, 'joined');
    assert.equal(participantOf(p, party, 'alice')?.dialOut, undefined, 'the list is used once');
    await hangUp(p, 'alice', party);
    assert.equal((await call.done).code, 0);
    await until(() => p.server.supervisor.peek('room', party) === undefined, 'ad-hoc room ended with its last participant');
  });

  it('an ad-hoc room drops a joiner that never ACKs after 5 s (simulated) and ends', async () => {
    const adhoc = 'sip:quick@conference.parley.example';
    const client = new ChatClient(endpoint, 'erin');
    const call = sipp({ scenario: scenario('room-noack.xml'), port: p.sipPort, keys: { user: 'erin', room: 'quick', msrp_path: client.path } });
    // The 200 is sent after the JOIN's commit (which armed the ACK timer): wait for it, not for
    // the in-memory state, which runs ahead of the commit.
    await until(() => participantOf(p, adhoc, 'erin')?.status === 'expected' && p.server.context.sip.stats.ackWaits > 0, 'erin answered');
    clock.advance(4999);
    assert.equal(participantOf(p, adhoc, 'erin')?.status, 'expected');
    clock.advance(1);
    const r = await call.done;
    assert.equal(r.code, 0, describeRun(r));
    await until(() => p.server.supervisor.peek('room', adhoc) === undefined, 'ad-hoc room removed');
  });
});

describe('chat room roster (RFC 4575) end to end with SIPp', { skip, concurrency: false }, () => {
  const dir = tempDir('parley-roster-');
  const clock = new SimulatedClock(Date.now());
  const TEAM = 'sip:team@conference.parley.example';
  let p: Parley;
  let endpoint: MsrpEndpoint;

  before(async () => {
    p = await startParley(testConfig(dir.path), clock);
    endpoint = await msrpClientEndpoint();
    assert.equal(await p.server.supervisor.dispatch('room', TEAM, conferenceEvents.provisioned(openPolicy), { create: true }), 'ok');
  });
  after(async () => {
    await endpoint?.close();
    await p?.server.stop();
    dir.remove();
  });

  it('another event package gets 489; a room that does not exist gets 404', async () => {
    const bad = await sipp({ scenario: scenario('room-subscribe-489.xml'), port: p.sipPort, keys: { user: 'watcher', room: 'team', event: 'presence' } }).done;
    assert.equal(bad.code, 0, describeRun(bad));
    const none = await sipp({ scenario: scenario('room-subscribe-404.xml'), port: p.sipPort, keys: { user: 'watcher', room: 'nowhere', event: 'conference' } }).done;
    assert.equal(none.code, 0, describeRun(none));
    assert.equal(p.server.supervisor.peek('room', 'sip:nowhere@conference.parley.example'), undefined);
  });

  it('full NOTIFY, then one partial NOTIFY per change with version + 1; refresh; unsubscribe', async () => {
    const watch = sipp({ scenario: scenario('room-subscribe.xml'), port: p.sipPort, keys: { user: 'watcher', room: 'team', event: 'conference' } });
    await until(() => Object.keys(roomContext(p, TEAM)?.subscribers ?? {}).length === 1, 'subscribed');
    const alice = await join(p, endpoint, 'alice', TEAM); // version 2: alice added
    assert.equal((await alice.client.session.sendNickname('Ali')).status, 200); // version 3: renamed
    await hangUp(p, 'alice', TEAM); // version 4: alice deleted
    assert.equal((await alice.call.done).code, 0);
    const r = await watch.done; // then refresh (5, full) and unsubscribe (6, terminated)
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.messages, /<display-text>Ali<\/display-text>/);
    assert.match(r.messages, /<user entity="sip:alice@example.com" state="deleted"/);
    await until(() => Object.keys(roomContext(p, TEAM)?.subscribers ?? {}).length === 0, 'unsubscribed');
  });
});
