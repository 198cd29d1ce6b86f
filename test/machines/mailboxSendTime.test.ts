import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSendTime } from '../../src/machines/sendTime.js';

test('reads RFC 3339 times with Z, offsets and fractions', () => {
  assert.equal(parseSendTime('2026-11-22T10:00:00Z'), Date.UTC(2026, 10, 22, 10, 0, 0));
  assert.equal(parseSendTime('2026-11-22T11:30:00+01:30'), Date.UTC(2026, 10, 22, 10, 0, 0));
  assert.equal(parseSendTime('2026-11-22T05:00:00-05:00'), Date.UTC(2026, 10, 22, 10, 0, 0));
  assert.equal(parseSendTime('2026-11-22T10:00:00.250Z'), Date.UTC(2026, 10, 22, 10, 0, 0, 250));
});

test("reads msilo's YYYYMMDDHHMMSS as UTC", () => {
  assert.equal(parseSendTime('20261122100000'), Date.UTC(2026, 10, 22, 10, 0, 0));
});

test('refuses times without a zone, impossible dates and garbage', () => {
  for (const bad of ['2026-11-22T10:00:00', '2026-02-30T10:00:00Z', '20261340100000', '2026-11-22T24:00:00Z', 'tomorrow', '', '2026-11-22T10:00:00+25:00', 'x'.repeat(100)]) {
    assert.equal(parseSendTime(bad), undefined, bad);
  }
});
