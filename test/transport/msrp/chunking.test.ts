import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ChunkQueue } from '../../../src/transport/msrp/chunker.js';
import { Reassembler, type ChunkIn } from '../../../src/transport/msrp/reassembler.js';
import { pathOf } from '../../../src/transport/msrp/serializer.js';

const TO = pathOf('msrp://b.example.com:2855/s3ss10n;tcp');
const FROM = pathOf('msrp://a.example.com:2855/0th3r;tcp');
let tx = 0;
const newTx = () => `tx${++tx}`;

function spec(messageId: string, body: Buffer, chunkSize = 10) {
  return { messageId, toPath: TO, fromPath: FROM, contentType: 'text/plain', body, chunkSize };
}

function toChunkIn(r: { messageId?: string; byteRange?: ChunkIn['byteRange']; body?: Buffer; flag: ChunkIn['flag']; contentType?: string }): ChunkIn {
  return { messageId: r.messageId!, byteRange: r.byteRange, body: r.body ?? Buffer.alloc(0), flag: r.flag, contentType: r.contentType };
}

test('the queue round-robins so a small message is not blocked behind a large one', () => {
  const q = new ChunkQueue(newTx);
  q.enqueue(spec('big', Buffer.alloc(100, 1)));
  q.enqueue(spec('small', Buffer.from('hi')));
  const order: string[] = [];
  for (let c = q.next(); c !== undefined; c = q.next()) order.push(`${c.request.messageId}${c.request.flag}`);
  assert.deepEqual(order.slice(0, 3), ['big+', 'small$', 'big+']);
  assert.equal(order.length, 11);
  assert.equal(order.at(-1), 'big$');
});

test('chunks carry 1-based inclusive Byte-Ranges and reassemble to the original body', () => {
  const q = new ChunkQueue(newTx);
  const body = Buffer.from('abcdefghijklmnopqrstuvwxyz');
  q.enqueue(spec('m', body, 7));
  const ranges: string[] = [];
  const r = new Reassembler();
  let result;
  for (let c = q.next(); c !== undefined; c = q.next()) {
    const br = c.request.byteRange!;
    ranges.push(`${br.start}-${br.end}/${br.total}`);
    result = r.push(toChunkIn(c.request));
  }
  assert.deepEqual(ranges, ['1-7/26', '8-14/26', '15-21/26', '22-26/26']);
  assert.equal(result?.kind, 'complete');
  assert.deepEqual(result?.kind === 'complete' && result.body, body);
});

test('an aborted message with chunks already sent ends with an empty # chunk', () => {
  const q = new ChunkQueue(newTx);
  const m = q.enqueue(spec('m', Buffer.alloc(30, 1)));
  q.next();
  q.abort(m);
  const c = q.next()!;
  assert.equal(c.request.flag, '#');
  assert.equal(c.request.body?.length, 0);
  assert.equal(q.next(), undefined);
});

test('reassembles interleaved, out-of-order and duplicated chunks of several messages', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 0, maxLength: 80 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 17 }),
      fc.array(fc.nat(), { maxLength: 200 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      (bodies, size, perm, dups) => {
        const q = new ChunkQueue(newTx);
        bodies.forEach((b, i) => q.enqueue(spec(`m${i}`, Buffer.from(b), size)));
        const chunks: ChunkIn[] = [];
        for (let c = q.next(); c !== undefined; c = q.next()) chunks.push(toChunkIn(c.request));
        for (const d of dups) chunks.push(chunks[d % chunks.length]);
        // Shuffle deterministically from perm.
        for (let i = chunks.length - 1; i > 0; i--) {
          const j = (perm[i] ?? 0) % (i + 1);
          [chunks[i], chunks[j]] = [chunks[j], chunks[i]];
        }
        const r = new Reassembler();
        const done = new Map<string, Buffer>();
        for (const c of chunks) {
          const res = r.push(c);
          if (res.kind === 'complete' && !done.has(res.messageId)) done.set(res.messageId, res.body);
        }
        bodies.forEach((b, i) => assert.deepEqual(done.get(`m${i}`), Buffer.from(b), `m${i}`));
      },
    ),
    { numRuns: 300 },
  );
});

test('an unknown total completes at the $ chunk once every earlier byte arrived', () => {
  const r = new Reassembler();
  const c = (start: number, s: string, flag: '+' | '$') =>
    r.push({ messageId: 'u', byteRange: { start, end: undefined, total: undefined }, body: Buffer.from(s), flag, contentType: 'text/plain' });
  assert.equal(c(6, 'world', '$').kind, 'partial');
  const res = c(1, 'hello', '+');
  assert.equal(res.kind, 'complete');
  assert.equal(res.kind === 'complete' && res.body.toString(), 'helloworld');
  assert.equal(r.partialCount, 0);
});

test('a # chunk aborts and forgets the partial message', () => {
  const r = new Reassembler();
  r.push({ messageId: 'a', byteRange: { start: 1, end: 3, total: 10 }, body: Buffer.from('abc'), flag: '+', contentType: 't/p' });
  assert.equal(r.partialCount, 1);
  assert.equal(r.push({ messageId: 'a', byteRange: { start: 4, end: 3, total: 10 }, body: Buffer.alloc(0), flag: '#', contentType: 't/p' }).kind, 'aborted');
  assert.equal(r.partialCount, 0);
});

test('a declared total over maxMessageBytes is refused with 413 before buffering, and so are its later chunks', () => {
  const r = new Reassembler({ maxMessageBytes: 100 });
  const res = r.push({ messageId: 'b', byteRange: { start: 1, end: 10, total: 1000 }, body: Buffer.alloc(10), flag: '+', contentType: 't/p' });
  assert.deepEqual([res.kind, res.kind === 'error' && res.status], ['error', 413]);
  assert.equal(r.partialCount, 0);
  const later = r.push({ messageId: 'b', byteRange: { start: 11, end: 20, total: 1000 }, body: Buffer.alloc(10), flag: '+', contentType: 't/p' });
  assert.equal(later.kind, 'error');
});

test('an unknown-total message growing past maxMessageBytes is refused with 413', () => {
  const r = new Reassembler({ maxMessageBytes: 25 });
  let last;
  for (let i = 0; i < 4; i++) {
    last = r.push({ messageId: 'g', byteRange: { start: i * 10 + 1, end: undefined, total: undefined }, body: Buffer.alloc(10), flag: '+', contentType: 't/p' });
  }
  assert.equal(last?.kind, 'error');
  assert.equal(r.partialCount, 0);
});

test('more concurrent partial messages than maxPartialMessages are refused with 413', () => {
  const r = new Reassembler({ maxPartialMessages: 2 });
  const p = (id: string) => r.push({ messageId: id, byteRange: { start: 1, end: 1, total: 5 }, body: Buffer.from('x'), flag: '+', contentType: 't/p' });
  assert.equal(p('1').kind, 'partial');
  assert.equal(p('2').kind, 'partial');
  const third = p('3');
  assert.equal(third.kind === 'error' && third.code, 'MSRP_TOO_MANY_PARTIAL_MESSAGES');
});
