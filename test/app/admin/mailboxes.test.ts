/**
 * The mailboxes admin API over a real socket on a whole server: list mailboxes with their
 * counts, show one user's messages (metadata and a preview), delete one message, purge a
 * mailbox, msilo's counters, and the 400/404 answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mailboxPath, startAdminServer, storeMessage as store, type AdminFixture } from './fixture.js';

const BOB = 'sip:bob@parley.example';
const CAROL = 'sip:carol@parley.example';

describe('mailboxes admin API', () => {
  let f: AdminFixture;
  before(async () => {
    f = await startAdminServer();
    for (let i = 1; i <= 3; i++) await store(f, BOB, i);
    await store(f, CAROL, 1);
  });
  after(async () => {
    await f.close();
  });

  it('lists mailboxes with their stored count, a page at a time', async () => {
    const all = await f.call('GET', '/api/admin/mailboxes');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body, { mailboxes: [{ aor: BOB, count: 3, online: false }, { aor: CAROL, count: 1, online: false }] });
    const page = await f.call('GET', '/api/admin/mailboxes?limit=1');
    assert.deepEqual(page.body, { mailboxes: [{ aor: BOB, count: 3, online: false }], next: BOB });
    const rest = await f.call('GET', `/api/admin/mailboxes?limit=1&after=${encodeURIComponent(BOB)}`);
    assert.deepEqual(rest.body.mailboxes.map((m: any) => m.aor), [CAROL]);
  });

  it('shows a mailbox: state and message metadata with a preview, any spelling of the AoR', async () => {
    const r = await f.call('GET', mailboxPath('sips:bob@Parley.Example;transport=tcp'));
    assert.equal(r.status, 200);
    assert.equal(r.body.aor, BOB);
    assert.equal(r.body.count, 3);
    assert.equal(r.body.online, false);
    assert.deepEqual(r.body.messages.map((m: any) => [m.seq, m.preview, m.bytes, m.contentType]), [
      [1, 'hello 1', 7, 'text/plain'],
      [2, 'hello 2', 7, 'text/plain'],
      [3, 'hello 3', 7, 'text/plain'],
    ]);
    assert.equal(r.body.messages[0].receivedAt, new Date(f.clock.now()).toISOString());
    const page = await f.call('GET', `${mailboxPath(BOB)}?limit=2`);
    assert.equal(page.body.messages.length, 2);
    assert.equal(page.body.next, 2);
    const next = await f.call('GET', `${mailboxPath(BOB)}?after=2`);
    assert.deepEqual(next.body.messages.map((m: any) => m.seq), [3]);
  });

  it('answers 404 for a user without a mailbox and 400 for what is not an AoR', async () => {
    const missing = await f.call('GET', mailboxPath('sip:nobody@parley.example'));
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.message, 'no mailbox sip:nobody@parley.example');
    const bad = await f.call('GET', mailboxPath('bob'));
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^aor: "bob" is not a valid SIP URI/);
    assert.equal((await f.call('GET', `${mailboxPath(BOB)}?limit=x`)).status, 400);
    assert.equal((await f.call('DELETE', mailboxPath('sip:nobody@parley.example'))).status, 404);
    assert.equal((await f.call('GET', `/api/admin/mailboxes?after=${'x'.repeat(300)}`)).status, 400);
  });

  it('deletes one message: 200, then 404 for it; 400 for a sequence number that is not one', async () => {
    const r = await f.call('DELETE', `${mailboxPath(BOB)}/messages/2`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { aor: BOB, seq: 2, deleted: true });
    const again = await f.call('DELETE', `${mailboxPath(BOB)}/messages/2`);
    assert.equal(again.status, 404);
    assert.equal(again.body.error.message, `no message 2 in mailbox ${BOB}`);
    assert.equal((await f.call('DELETE', `${mailboxPath(BOB)}/messages/-1`)).status, 400);
    assert.equal((await f.call('DELETE', `${mailboxPath(BOB)}/messages/1e3`)).status, 400);
    const shown = await f.call('GET', mailboxPath(BOB));
    assert.deepEqual(shown.body.messages.map((m: any) => m.seq), [1, 3]);
    assert.equal(shown.body.count, 2);
  });

  it("reports msilo's counters", async () => {
    const r = await f.call('GET', '/api/admin/stats/mailbox');
    assert.equal(r.status, 200);
    assert.equal(r.body.stored_messages, 4);
    for (const k of ['dumped_messages', 'failed_messages', 'dumped_reminders', 'failed_reminders']) assert.equal(typeof r.body[k], 'number');
  });

  it('purges a mailbox: every message goes, the mailbox is no longer listed, also after a restart', async () => {
    const r = await f.call('DELETE', mailboxPath(BOB));
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { aor: BOB, purged: 2 });
    assert.equal((await f.call('GET', mailboxPath(BOB))).status, 404);
    await f.restart();
    assert.equal((await f.call('GET', mailboxPath(BOB))).status, 404);
    assert.deepEqual((await f.call('GET', '/api/admin/mailboxes')).body.mailboxes.map((m: any) => m.aor), [CAROL]);
  });
});
