/**
 * The message-waiting recount of a mailbox (a read of all its messages) runs at once for a
 * change after a quiet period, and at most once more per quarter of the NOTIFY pacing during a
 * burst, ending with the counts after the last change. LMDB in a temp dir, simulated clock; the
 * dispatcher records what the notifier would get.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import { Store } from '../../../src/actors/store.js';
import { MailboxStore } from '../../../src/actors/mailboxStore.js';
import { MessageWaiting } from '../../../src/app/offline/messageWaiting.js';
import type { SipTransport } from '../../../src/transport/sip/transport.js';
import { tempDir } from '../../helpers/runtime.js';

const BOB = 'sip:bob@parley.example';

test('a burst of mailbox changes is recounted at once, then once per quarter of the pacing, ending with the last counts', async () => {
  const dir = tempDir();
  const store = new Store({ path: dir.path });
  try {
    const mailboxStore = new MailboxStore(store);
    let scans = 0;
    const summary = mailboxStore.summary.bind(mailboxStore);
    mailboxStore.summary = (aor, maxScan) => (scans++, summary(aor, maxScan));
    const reported: number[] = [];
    const dispatcher = {
      dispatch: async (kind: string, _key: string, event: { type: string; counts?: { newCount: number } }) => {
        if (kind === 'mwi' && event.type === 'COUNTS_CHANGED') reported.push(event.counts?.newCount ?? -1);
        return 'ok' as const;
      },
      peek: () => undefined,
    };
    const clock = new SimulatedClock();
    const mwi = new MessageWaiting({ sip: {} as SipTransport, clock, logger: pino({ level: 'silent' }), domains: ['parley.example'], dispatcher: () => dispatcher, mailboxStore, account: 'sip:offline@parley.example', trustAsserted: false, minIntervalMs: 1000 });
    const put = (seq: number) => mailboxStore.messages.put([BOB, seq], { seq, from: 'sip:alice@example.com', to: BOB, ruri: BOB, contentType: 'text/plain', body: `m${seq}`, receivedAt: 0, expiresAt: 1e12, dedupKeys: [] } as never);

    await put(1);
    mwi.changed(BOB);
    assert.deepEqual(reported, [1], 'the first change is recounted at once');
    for (let seq = 2; seq <= 50; seq++) {
      await put(seq);
      mwi.changed(BOB);
    }
    assert.equal(scans, 1, 'no recount within the quarter');
    clock.advance(249);
    assert.equal(scans, 1);
    clock.advance(1);
    assert.deepEqual(reported, [1, 50], 'the quarter ends with the counts after the last change');
    clock.advance(1000);
    assert.equal(scans, 2, 'nothing changed since: no recount');
    await put(51);
    mwi.changed(BOB);
    assert.deepEqual(reported, [1, 50, 51], 'after a quiet period, at once again');
    mwi.stop();
  } finally {
    await store.close();
    dir.remove();
  }
});
