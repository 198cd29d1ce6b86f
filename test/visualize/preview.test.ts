import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { preview } from '../../src/actors/preview.js';
import { ActorIndex } from '../../src/actors/actorIndex.js';
import { InspectionStream } from '../../src/actors/inspection.js';

const limits = { maxString: 5, maxItems: 2, maxDepth: 2 };

describe('preview', () => {
  it('copies values within its limits as they are', () => {
    const v = { type: 'STORE', list: ['a', null] };
    assert.deepEqual(preview(v, limits), v);
    assert.notEqual(preview(v, limits), v);
  });

  it('cuts long strings, long arrays, many keys and deep nesting, and says how much it left out', () => {
    assert.equal(preview('abcdefgh', limits), 'abcde\u2026');
    assert.deepEqual(preview([1, 2, 3, 4], limits), [1, 2, '\u2026 2 more']);
    assert.deepEqual(preview({ a: 1, b: 2, c: 3 }, limits), { a: 1, b: 2, '\u2026': '1 more keys' });
    assert.deepEqual(preview({ a: { b: { c: 1 } } }, limits), { a: { b: '\u2026' } });
    assert.equal(preview(Buffer.from('hello'), limits), '<5 bytes>');
  });

  it('is what the actor index keeps and streams of an event carrying a batch of messages', async () => {
    const s = new InspectionStream();
    const idx = new ActorIndex(s);
    const streamed: unknown[] = [];
    idx.listen({ record: (r) => streamed.push(r.record), lost: () => undefined });
    const items = Array.from({ length: 256 }, (_, i) => ({ body: 'x'.repeat(10_000), seq: i }));
    const view = { value: 'idle', status: 'active', context: {} };
    s.publish({ type: 'actor.event', kind: 'mailbox', key: 'a', at: 1, event: { type: 'STORE_MESSAGES', items }, before: view, after: view, effects: items });
    await new Promise((r) => setImmediate(r));
    const [entry] = idx.recent('mailbox', 'a');
    assert.equal(entry.type, 'STORE_MESSAGES');
    assert.ok(JSON.stringify(entry.event).length < 5_000, 'a bounded event');
    assert.ok(JSON.stringify(entry.effects).length < 5_000, 'bounded effects');
    assert.equal((entry.effects as unknown[]).at(-1), '\u2026 244 more');
    assert.equal(streamed.length, 1);
    assert.ok(JSON.stringify(streamed[0]).length < 10_000, 'the live stream gets the bounded record too');
    idx.close();
  });
});
