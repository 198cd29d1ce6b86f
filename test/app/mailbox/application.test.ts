/**
 * The mailbox application on the real runtime (Supervisor, LMDB, SimulatedClock) with an
 * in-memory fake SipTransport: MESSAGE in -> stored -> 202 after the commit; registration ->
 * delivery with Date; retries; quota; restart; admin functions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedClock } from '../../../src/clock.js';
import { deleteMessage, listMailbox, listMailboxes, mailboxStats, purgeMailbox } from '../../../src/app/mailbox/admin.js';
import { getHeader } from '../../../src/transport/sip/headers.js';
import { tempDir } from '../../helpers/runtime.js';
import { BOB, FakeSip, incoming, settle, setup } from './world.js';


const deliveredBodies = (sip: FakeSip) => sip.sent.filter((r) => !('kind' in r) || r.kind === 'request').map((r) => String(r.body));

test('a MESSAGE for an offline user is answered 202 only after its commit', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    const m = incoming(1);
    s.app.handle(m.req);
    assert.deepEqual(m.answers, [], 'nothing before the commit');
    await m.answered;
    assert.deepEqual(m.answers, [[202, 'Accepted']]);
    const view = listMailbox(s.admin, BOB);
    assert.equal(view.count, 1);
    assert.equal(view.messages[0].from, '"Alice" <sip:alice@example.com>');
    assert.equal(view.messages[0].preview, 'message 1');
    assert.deepEqual(mailboxStats(s.admin).stored_messages, 1);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('a re-sent MESSAGE (same Call-ID and CSeq) is stored once, before and after its commit', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    const a = incoming(1, { callId: 'same' });
    const b = incoming(2, { callId: 'same' });
    s.app.handle(a.req);
    s.app.handle(b.req);
    await Promise.all([a.answered, b.answered]);
    const c = incoming(3, { callId: 'same' });
    s.app.handle(c.req);
    await c.answered;
    assert.deepEqual([a.answers[0][0], b.answers[0][0], c.answers[0][0]], [202, 202, 202]);
    assert.equal(listMailbox(s.admin, BOB).messages.length, 1);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('registration delivers every stored message in order, from the sender, with a Date header', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    for (let i = 1; i <= 25; i++) {
      const m = incoming(i);
      s.app.handle(m.req);
      await m.answered;
    }
    s.register();
    await settle(s);
    assert.deepEqual(deliveredBodies(s.sip), Array.from({ length: 25 }, (_, i) => `message ${i + 1}`));
    const first = s.sip.sent[0] as unknown as { uri: string; headers: Array<{ name: string; value: string }> };
    assert.equal(first.uri, 'sip:bob@127.0.0.1:5080');
    assert.match(getHeader(first, 'from') ?? '', /^"Alice" <sip:alice@example.com>;tag=/);
    assert.equal(getHeader(first, 'date'), new Date(s.clock.now()).toUTCString());
    assert.equal(s.store.snapshots.get(['mailbox', BOB]), undefined, 'empty mailbox stopped, no snapshot');
    assert.equal(listMailbox(s.admin, BOB).messages.length, 0);
    assert.equal(mailboxStats(s.admin).dumped_messages, 25);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('add_date prefixes the stored date to a text body', async () => {
  const dir = tempDir();
  const s = setup(dir.path, { addDate: true });
  try {
    const m = incoming(1);
    s.app.handle(m.req);
    await m.answered;
    s.register();
    await settle(s);
    assert.equal(deliveredBodies(s.sip)[0], `[Offline message - ${new Date(s.clock.now()).toUTCString()}] message 1`);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('messages a contact refuses with 500 are sent again after check_time, not before', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    for (let i = 1; i <= 4; i++) {
      const m = incoming(i);
      s.app.handle(m.req);
      await m.answered;
    }
    s.sip.answer = (r) => (String(r.body).endsWith('2') || String(r.body).endsWith('4') ? 500 : 200);
    s.register();
    await settle(s);
    assert.deepEqual(deliveredBodies(s.sip), ['message 1', 'message 2', 'message 3', 'message 4']);
    s.sip.answer = () => 200;
    s.clock.advance(29_999);
    await settle(s);
    assert.equal(s.sip.sent.length, 4);
    s.clock.advance(1);
    await settle(s);
    assert.deepEqual(deliveredBodies(s.sip).slice(4), ['message 2', 'message 4']);
    assert.equal(s.store.snapshots.get(['mailbox', BOB]), undefined);
    const st = mailboxStats(s.admin);
    assert.deepEqual([st.dumped_messages, st.failed_messages], [4, 2]);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('a MESSAGE for a registered user is delivered at once (200), and stored when the contact is unreachable', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    s.contacts.set(BOB, [{ uri: 'sip:bob@127.0.0.1:5080', path: [] }]);
    const a = incoming(1);
    s.app.handle(a.req);
    await a.answered;
    assert.deepEqual(a.answers, [[200, undefined]]);
    s.sip.answer = () => 408;
    const b = incoming(2);
    s.app.handle(b.req);
    await b.answered;
    assert.equal(b.answers[0][0], 202);
    s.sip.answer = () => 603;
    const c = incoming(3);
    s.app.handle(c.req);
    await c.answered;
    assert.equal(c.answers[0][0], 603, 'a refusal by the user is relayed, not stored');
    assert.equal(listMailbox(s.admin, BOB).count, 1);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('beyond max_messages the MESSAGE is refused 486 Mailbox Full', async () => {
  const dir = tempDir();
  const s = setup(dir.path, { config: { maxMessages: 2 } });
  try {
    const codes: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const m = incoming(i);
      s.app.handle(m.req);
      await m.answered;
      codes.push(m.answers[0][0]);
    }
    assert.deepEqual(codes, [202, 202, 486]);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('bad input gets precise errors: bad send time 400, too large 413, other domain not accepted', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    const a = incoming(1, { headers: [{ name: 'x-parley-send-at', value: 'tomorrow' }] });
    s.app.handle(a.req);
    await a.answered;
    assert.equal(a.answers[0][0], 400);
    const b = incoming(2, { body: 'x'.repeat(70_000) });
    s.app.handle(b.req);
    await b.answered;
    assert.equal(b.answers[0][0], 413);
    assert.equal(s.app.accepts(incoming(3, { to: 'sip:bob@elsewhere.example' }).req), false);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('a reminder is delivered at its send time, not before, even to an online user', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    s.register();
    const at = new Date(s.clock.now() + 3_600_000).toISOString();
    const m = incoming(1, { headers: [{ name: 'x-parley-send-at', value: at }] });
    s.app.handle(m.req);
    await m.answered;
    assert.equal(m.answers[0][0], 202);
    s.clock.advance(3_599_999);
    await settle(s);
    assert.equal(s.sip.sent.length, 0);
    s.clock.advance(1);
    await settle(s);
    assert.deepEqual(deliveredBodies(s.sip), ['message 1']);
    assert.equal(mailboxStats(s.admin).dumped_reminders, 1);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('expired messages are swept and the mailbox ends', async () => {
  const dir = tempDir();
  const s = setup(dir.path, { config: { expireTimeMs: 600_000 } });
  try {
    const m = incoming(1);
    s.app.handle(m.req);
    await m.answered;
    s.clock.advance(600_000);
    await settle(s);
    assert.equal(listMailbox(s.admin, BOB).messages.length, 0);
    assert.equal(s.store.snapshots.get(['mailbox', BOB]), undefined);
  } finally {
    await s.close();
    dir.remove();
  }
});

test('a restart between storing and registering loses nothing', async () => {
  const dir = tempDir();
  const clock = new SimulatedClock();
  let s = setup(dir.path, { clock });
  for (let i = 1; i <= 5; i++) {
    const m = incoming(i);
    s.app.handle(m.req);
    await m.answered;
  }
  await s.close();
  s = setup(dir.path, { clock });
  try {
    s.register();
    await settle(s);
    assert.deepEqual(deliveredBodies(s.sip), ['message 1', 'message 2', 'message 3', 'message 4', 'message 5']);
    assert.equal(mailboxStats(s.admin).stored_messages, 5, 'counters survive the restart');
  } finally {
    await s.close();
    dir.remove();
  }
});

test('admin: list mailboxes, delete one message, purge a mailbox', async () => {
  const dir = tempDir();
  const s = setup(dir.path);
  try {
    for (let i = 1; i <= 3; i++) {
      const m = incoming(i);
      s.app.handle(m.req);
      await m.answered;
    }
    assert.deepEqual(listMailboxes(s.admin), [{ aor: BOB, count: 3, online: false }]);
    assert.equal(await deleteMessage(s.admin, BOB, 2), true);
    assert.equal(await deleteMessage(s.admin, BOB, 2), false);
    const view = listMailbox(s.admin, BOB, { limit: 1 });
    assert.deepEqual([view.count, view.messages[0].seq, view.next], [2, 1, 1]);
    assert.equal(await purgeMailbox(s.admin, BOB), 2);
    assert.equal(listMailbox(s.admin, BOB).messages.length, 0);
    assert.equal(s.store.snapshots.get(['mailbox', BOB]), undefined);
    assert.deepEqual([...s.app.mailboxStore.ids.getKeys()], [], 'dedup index emptied too');
  } finally {
    await s.close();
    dir.remove();
  }
});

test('with sender notification on, the sender is told the user is offline after the commit', async () => {
  const dir = tempDir();
  const s = setup(dir.path, { notify: true });
  try {
    const m = incoming(1);
    s.app.handle(m.req);
    await m.answered;
    await settle(s);
    const n = s.sip.sent[0] as unknown as { uri: string; body: string; headers: Array<{ name: string; value: string }> };
    assert.equal(n.uri, 'sip:alice@example.com');
    assert.equal(getHeader(n, 'from'), '<sip:offline@parley.example>');
    assert.match(n.body, /User sip:bob@parley.example is offline/);
  } finally {
    await s.close();
    dir.remove();
  }
});
