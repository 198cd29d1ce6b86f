import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openPolicy } from '../../../src/machines/policy.js';
import type { ActorRecord } from '../../../src/actors/store.js';
import { participantInfo, startVisualizer, type VisualizerFixture } from './fixture.js';

const N = 100_000;
const keyOf = (i: number) => `sip:room-${String(i).padStart(6, '0')}@conf.example.com`;

describe('actor list paging over 100,000 persisted actors', () => {
  let f: VisualizerFixture;
  before(async () => {
    f = await startVisualizer();
    const now = f.rt.clock.now();
    // Written straight to LMDB: what a restarted Parley finds, none of it resident.
    await f.rt.store.env.transaction(() => {
      for (let i = 0; i < N; i++) {
        const participants = i % 10 === 0 ? {} : { 'dlg-a': { ...participantInfo('a'), status: 'joined', since: now } };
        const record: ActorRecord = {
          v: 1,
          machineVersion: 1,
          value: i % 10 === 0 ? 'idle' : 'open',
          context: { room: keyOf(i), isStatic: false, policy: openPolicy, ackTimeoutMs: 5000, participants },
          timers: i % 1000 === 0 ? { 'ack:x': { due: now + 5000, event: { type: 'ACK_TIMEOUT', participantId: 'x' } } } : {},
          lastEventAt: now - i,
        };
        f.rt.store.snapshots.putSync(['room', keyOf(i)], record);
      }
    });
  });
  after(() => f.close());

  it('answers one page of `limit` rows quickly, whatever the number of actors', async () => {
    const t0 = performance.now();
    const { status, body } = await f.getJson('/api/actors?limit=100');
    const ms = performance.now() - t0;
    assert.equal(status, 200);
    assert.equal(body.items.length, 100);
    assert.equal(body.items[0].key, keyOf(0));
    assert.equal(body.items[0].timers, 1);
    assert.equal(body.items[1].summary, '1 participant');
    assert.equal(body.scanned, 100);
    assert.deepEqual(JSON.parse(body.next), ['room', keyOf(99)]);
    assert.ok(ms < 1000, `page took ${ms.toFixed(0)} ms`);
  });

  it('walks every actor exactly once, in key order, by following `next`', async () => {
    let next: string | null = null;
    let count = 0;
    let prev = '';
    let pages = 0;
    do {
      const q: string = next === null ? '' : `&after=${encodeURIComponent(next)}`;
      const { body }: { body: any } = await f.getJson(`/api/actors?kind=room&limit=1000${q}`);
      for (const row of body.items) {
        assert.ok(row.key > prev, `${row.key} after ${prev}`);
        prev = row.key;
        count++;
      }
      next = body.next;
      pages++;
    } while (next !== null);
    assert.equal(count, N);
    assert.equal(pages, N / 1000);
  });

  it('answers a selective search in bounded scans, with a cursor to continue', async () => {
    const wanted = keyOf(87_654);
    const found: string[] = [];
    let next: string | null = null;
    let requests = 0;
    do {
      const q: string = next === null ? '' : `&after=${encodeURIComponent(next)}`;
      const { body }: { body: any } = await f.getJson(`/api/actors?q=room-087654${q}`);
      assert.ok(body.scanned <= 20_000, `scanned ${body.scanned}`);
      found.push(...body.items.map((r: any) => r.key));
      next = body.next;
      requests++;
    } while (next !== null);
    assert.deepEqual(found, [wanted]);
    assert.equal(requests, 5);
  });

  it('filters by state while paging', async () => {
    const { body } = await f.getJson('/api/actors?state=idle&limit=3');
    assert.deepEqual(body.items.map((r: any) => r.key), [keyOf(0), keyOf(10), keyOf(20)]);
    assert.ok(body.items.every((r: any) => r.state === 'idle'));
  });
});
