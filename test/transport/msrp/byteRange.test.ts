import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../../src/errors.js';
import { formatByteRange, parseByteRange } from '../../../src/transport/msrp/byteRange.js';

test('parses known and unknown (*) end and total', () => {
  assert.deepEqual(parseByteRange('1-25/25'), { start: 1, end: 25, total: 25 });
  assert.deepEqual(parseByteRange('1-*/*'), { start: 1, end: undefined, total: undefined });
  assert.deepEqual(parseByteRange('2049-*/10000'), { start: 2049, end: undefined, total: 10000 });
});

test('rejects malformed ranges with status 400', () => {
  for (const v of ['', '0-1/1', '5-3/10', '1-20/10', 'a-1/1', '1-2', '1/2-3', '1-2/3/4', '-1-2/3', '1-2/9999999999999999']) {
    const r = parseByteRange(v);
    assert.ok(r instanceof ProtocolError, v);
    assert.equal(r.status, 400);
  }
});

test('format is the inverse of parse', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e9 }), fc.nat(1e6), fc.option(fc.nat(1e6)), fc.boolean(), (s, len, extra, endKnown) => {
      const end = endKnown ? s + len : undefined;
      const total = extra === null ? undefined : s + len + extra;
      const v = formatByteRange({ start: s, end, total });
      assert.deepEqual(parseByteRange(v), { start: s, end, total });
    }),
  );
});
