/**
 * Text message-waiting and fetch end to end (SIPp over UDP, MSRP client, SimulatedClock):
 * bob's message-summary subscription (Sylk-App: textmail) sees 0/0, then 3/0 once alice wrote
 * 3 messages into an offline session, then 0/3 after bob fetched them from the Message-Account
 * address (CPIM From = alice, DateTime = stored time); carol's fetch (even with a
 * P-Asserted-Identity of bob's, not believed from an untrusted peer) reads only her own empty
 * mailbox; a caller who is not a local user gets 403. A fetch while MESSAGE deliveries of the
 * same messages are in flight (bob's UA holds their answers) sends none of them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SimulatedClock, systemClock } from '../../../src/clock.js';
import { createSipStack } from '../../../src/transport/sip/stack.js';
import type { IncomingRequest } from '../../../src/transport/sip/transport.js';
import { MESSAGE_WAITING_KIND } from '../../../src/actors/messageWaitingKind.js';
import { MESSAGE_PUBLICATION_KIND } from '../../../src/actors/messagePublicationKind.js';
import { parseCpim } from '../../../src/formats/cpim.js';
import { parseMessageSummary } from '../../../src/formats/messageSummary.js';
import { describeRun, freePort, runSipp, SIPP, udpBound } from '../../helpers/sipp.js';
import { tempDir } from '../../helpers/runtime.js';
import { aliceWrites, logger, MsrpClient, sippAt, startParley, withParley, testConfig, until, type Parley } from './fixture.js';

const skip = existsSync(SIPP) ? false : 'sipp is not installed';
const scenario = (name: string) => join(process.cwd(), 'test', 'sipp', name);
const BOB = 'sip:bob@parley.example';
const ALICE = 'sip:alice@example.com';

/** Text-Message counts of the NOTIFYs SIPp received, in order. */
function notifiedCounts(trace: string): Array<{ waiting: boolean; account?: string; text: string }> {
  const out: Array<{ waiting: boolean; account?: string; text: string }> = [];
  for (const block of trace.split(/----------------------------------------------- /)) {
    if (!/message received/.test(block) || !/^NOTIFY /m.test(block)) continue;
    const msg = block.slice(block.search(/^NOTIFY /m));
    const body = msg.slice(msg.search(/\r?\n\r?\n/)).trim();
    const s = parseMessageSummary(body);
    assert.ok(!(s instanceof Error), body);
    const t = s.counts['text-message'];
    out.push({ waiting: s.waiting, ...(s.account !== undefined ? { account: s.account } : {}), text: `${t?.newCount}/${t?.oldCount}` });
  }
  return out;
}

/**
 * A fetch as `user` (optionally claiming `pai`): returns what the MSRP client received.
 * `maxSize` stands for an `a=max-size` in the client's offer (set on the fetch's session).
 */
async function fetchAs(parley: Parley, client: MsrpClient, user: string, pai = user, maxSize?: number) {
  const me = client.session('active');
  const sipp = runSipp({ scenario: scenario('fetch.xml'), port: parley.sipPort, transport: 'u1', extra: ['-key', 'msrppath', me.session.localUri, '-key', 'user', user, '-key', 'pai', pai] });
  await until(() => parley.offline.fetches.live.size === 1, 'the answered fetch');
  const [f] = [...parley.offline.fetches.live.values()];
  if (maxSize !== undefined) f.msrp.remoteMaxSize = maxSize;
  me.session.setRemote({ path: [f.msrp.localUri] });
  assert.equal((await me.session.connect()).status, 200);
  const run = await sipp;
  assert.equal(run.code, 0, describeRun(run));
  return me.received;
}

describe('text message-waiting and fetch with SIPp', { skip, concurrency: false }, () => {
  it('a subscription sees 0/0, 3/0 after an offline session, 0/3 after a fetch; others cannot read the mailbox', async () => {
    await withParley(async ({ parley, clock, client }) => {
      const subscriber = runSipp({ scenario: scenario('mwi-subscriber.xml'), port: parley.sipPort, transport: 'u1' });
      await until(() => parley.server.supervisor.peek(MESSAGE_WAITING_KIND, BOB) !== undefined, 'the subscription');
      const storedAt = await aliceWrites(parley, clock, client, 3); // its 90 s also pass the NOTIFY pacing

      // Not a local user: 403. carol, even claiming bob's identity from an untrusted peer: her own, empty mailbox.
      const refused = await runSipp({ scenario: scenario('fetch-refused.xml'), port: parley.sipPort, transport: 'u1' });
      assert.equal(refused.code, 0, describeRun(refused));
      const carol = await fetchAs(parley, client, 'carol', 'bob');
      assert.equal(carol.length, 0, "carol read nothing of bob's");
      assert.deepEqual(parley.mailbox.mailboxStore.summary(BOB), { newCount: 3, oldCount: 0 });

      const got = await fetchAs(parley, client, 'bob');
      assert.equal(got.length, 3);
      for (const [i, m] of got.entries()) {
        const cpim = parseCpim(m.body);
        assert.ok(!(cpim instanceof Error));
        assert.equal(cpim.from?.uri, ALICE);
        assert.equal(cpim.body.toString(), `message ${i + 1}`);
        assert.equal(cpim.dateTime, new Date(storedAt).toISOString());
      }
      await until(() => parley.mailbox.mailboxStore.summary(BOB).oldCount === 3, 'the fetched messages read');
      clock.advance(1000); // NOTIFY pacing
      const run = await subscriber;
      assert.equal(run.code, 0, describeRun(run));
      const seen = notifiedCounts(run.messages);
      assert.deepEqual(
        seen.map((s) => [s.waiting, s.text]),
        [
          [false, '0/0'],
          [true, '3/0'],
          [false, '0/3'],
          [false, '0/3'],
        ],
        'initial, after the session, after the fetch, final (unsubscribe)',
      );
      assert.equal(seen[0].account, 'sip:offline@parley.example');
      assert.match(run.messages, /Subscription-State: terminated;reason=timeout/);

      // Fetched means delivered: no delivery session will carry them when bob registers,
      // bob's next fetch gets nothing, the messages stay as old.
      assert.equal(await parley.offline.deliverTo(BOB), 0, 'no caller left to deliver for');
      const again = await fetchAs(parley, client, 'bob');
      assert.equal(again.length, 0);
      assert.deepEqual(parley.mailbox.mailboxStore.summary(BOB), { newCount: 0, oldCount: 3 });
    });
  });

  it('a fetch also carries what came by SIP MESSAGE, as CPIM from its sender with the stored time', async () => {
    await withParley(async ({ parley, clock, client }) => {
      const storedAt = clock.now();
      const stored = await runSipp({ scenario: scenario('mailbox-store.xml'), port: parley.sipPort, transport: 'u1', calls: 2 });
      assert.equal(stored.code, 0, describeRun(stored));
      const got = await fetchAs(parley, client, 'bob');
      assert.deepEqual(
        got.map((m) => {
          const cpim = parseCpim(m.body);
          assert.ok(!(cpim instanceof Error));
          return [cpim.from?.uri, cpim.contentType, cpim.body.toString().trim(), cpim.dateTime];
        }),
        [1, 2].map((i) => [ALICE, 'text/plain', `msg ${i}`, new Date(storedAt).toISOString()]),
      );
      await until(() => parley.mailbox.mailboxStore.summary(BOB).oldCount === 2, 'both read');
    });
  });
});

describe("a fetch by a client with a small a=max-size", { skip, concurrency: false }, () => {
  it('gets nothing over it; those messages stay stored and new for a later fetch', async () => {
    await withParley(async ({ parley, client }) => {
      const stored = await runSipp({ scenario: scenario('mailbox-store.xml'), port: parley.sipPort, transport: 'u1', calls: 2 });
      assert.equal(stored.code, 0, describeRun(stored));
      assert.deepEqual(await fetchAs(parley, client, 'bob', 'bob', 10), []);
      assert.deepEqual(parley.mailbox.mailboxStore.summary(BOB), { newCount: 2, oldCount: 0 });
      assert.equal((await fetchAs(parley, client, 'bob')).length, 2, 'a client without the limit gets them');
    });
  });
});

describe('a fetch while MESSAGE deliveries are in flight', { skip, concurrency: false }, () => {
  it('leaves those messages to their deliveries: each reaches bob once', async () => {
    const dir = tempDir();
    const clock = new SimulatedClock();
    const parley = await startParley(testConfig(dir.path), clock);
    const client = await new MsrpClient().start();
    // bob's UA: takes the MESSAGEs and answers them only when the test says so.
    const ua = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock: systemClock() });
    const held: IncomingRequest[] = [];
    ua.onRequest((r) => (r.request.method === 'MESSAGE' ? held.push(r) : r.respond(405)));
    try {
      const stored = await runSipp({ scenario: scenario('mailbox-store.xml'), port: parley.sipPort, transport: 'u1', calls: 2 });
      assert.equal(stored.code, 0, describeRun(stored));
      const reg = await ua.sendRequest(
        {
          kind: 'request', method: 'REGISTER', uri: 'sip:parley.example', body: Buffer.alloc(0),
          headers: [
            { name: 'from', value: `<${BOB}>;tag=race` }, { name: 'to', value: `<${BOB}>` }, { name: 'call-id', value: 'race-register' },
            { name: 'cseq', value: '1 REGISTER' }, { name: 'contact', value: `<${ua.contactUri()}>` }, { name: 'expires', value: '600' },
          ],
        },
        { destination: { host: '127.0.0.1', port: parley.sipPort, transport: 'udp' } },
      );
      assert.equal(reg.status, 200);
      await until(() => held.length === 2, 'both MESSAGEs in flight to bob');
      assert.equal((await fetchAs(parley, client, 'bob')).length, 0, 'the fetch sent none of them');
      for (const r of held) r.respond(200);
      await until(() => parley.mailbox.mailboxStore.summary(BOB).newCount === 0, 'both delivered and deleted');
      assert.equal(parley.mailbox.mailboxStore.summary(BOB).oldCount, 0, 'none marked read by the fetch');
      assert.deepEqual(held.map((r) => r.request.body.toString().trim()), ['msg 1', 'msg 2']);
    } finally {
      await ua.close();
      await client.close();
      await parley.server.stop();
      dir.remove();
    }
  });
});

describe('message-waiting PUBLISHed to a presence server (RFC 3903)', { skip, concurrency: false }, () => {
  it('publishes 2/0, then 0/2 with SIP-If-Match after a fetch, then refreshes before Expires', async () => {
    const dir = tempDir();
    const clock = new SimulatedClock();
    const uasPort = await freePort();
    const presence = sippAt({ scenario: scenario('presence-server.xml'), port: uasPort });
    await udpBound(uasPort);
    const parley = await startParley(testConfig(dir.path, { messageWaitingPublishTo: `sip:127.0.0.1:${uasPort}` }), clock);
    const client = await new MsrpClient().start();
    type Pub = { published?: { newCount: number; oldCount: number } | null; paceAt?: number | null; pending?: unknown };
    const pub = () => parley.server.supervisor.peek(MESSAGE_PUBLICATION_KIND, BOB)?.context as Pub | undefined;
    const published = () => pub()?.published;
    /** Time moves only once the timer is armed: its commit has to be done first. */
    const paced = async () => {
      await until(() => (pub()?.paceAt ?? null) !== null, 'the pacing timer');
      await parley.server.context.store.settled();
      clock.advance(1000);
    };
    try {
      const stored = await runSipp({ scenario: scenario('mailbox-store.xml'), port: parley.sipPort, transport: 'u1', calls: 2 });
      assert.equal(stored.code, 0, describeRun(stored));
      await until(() => parley.mailbox.mailboxStore.count(BOB) === 2, 'both stored');
      await paced(); // one PUBLISH for both
      await until(() => published()?.newCount === 2, 'published 2/0');
      const got = await fetchAs(parley, client, 'bob');
      assert.equal(got.length, 2);
      await until(() => parley.mailbox.mailboxStore.summary(BOB).oldCount === 2, 'both read');
      // A mailbox is recounted at most once per quarter of the pacing interval: a second change
      // within it is recounted when the quarter ends.
      await parley.server.context.store.settled();
      clock.advance(250);
      await until(() => (pub()?.pending as { oldCount?: number } | null)?.oldCount === 2, 'the change reported');
      await paced();
      await until(() => published()?.oldCount === 2, 'published 0/2');
      await parley.server.context.store.settled();
      clock.advance(3_240_000); // 90% of the granted 3600 s
      const run = await presence;
      assert.equal(run.code, 0, `${run.stderr}\n${run.messages.slice(-3000)}`);
      const publishes = run.messages
        .split(/----------------------------------------------- /)
        .filter((b) => /message received/.test(b) && /^PUBLISH /m.test(b))
        .map((b) => ({ ifMatch: /^SIP-If-Match:\s*(\S+)/im.exec(b)?.[1], text: /^Text-Message:\s*(\d+\/\d+)/im.exec(b)?.[1], event: /^Event:\s*(\S+)/im.exec(b)?.[1] }));
      assert.deepEqual(publishes, [
        { ifMatch: undefined, text: '2/0', event: 'message-summary' },
        { ifMatch: 'et1', text: '0/2', event: 'message-summary' },
        { ifMatch: 'et2', text: '0/2', event: 'message-summary' },
      ]);
    } finally {
      await client.close();
      await parley.server.stop();
      dir.remove();
    }
  });
});
