import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addHeader, canonicalHeaderName, contentLength, getHeader, getHeaders, parseDeltaSeconds, parseHeaderParams, parseSipDate,
  readHeaderFields, splitHeaderList, withHeader, withoutHeader,
} from '../../../src/transport/sip/headers.js';
import { wireHeaderName } from '../../../src/transport/sip/compact.js';

const msg = { headers: [
  { name: 'via', value: 'SIP/2.0/UDP a' }, { name: 'via', value: 'SIP/2.0/UDP b' }, { name: 'call-id', value: 'x@y' },
] };

test('canonicalHeaderName expands every compact form', () => {
  const table: Record<string, string> = { i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
    f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by',
    x: 'session-expires', y: 'identity' };
  for (const [k, v] of Object.entries(table)) {
    assert.equal(canonicalHeaderName(k), v);
    assert.equal(canonicalHeaderName(k.toUpperCase()), v);
  }
  assert.equal(canonicalHeaderName('CALL-ID'), 'call-id');
  assert.equal(canonicalHeaderName('X-Custom'), 'x-custom');
});

test('getHeader and getHeaders accept any case and compact names', () => {
  assert.equal(getHeader(msg, 'V'), 'SIP/2.0/UDP a');
  assert.deepEqual(getHeaders(msg, 'Via'), ['SIP/2.0/UDP a', 'SIP/2.0/UDP b']);
  assert.equal(getHeader(msg, 'i'), 'x@y');
  assert.equal(getHeader(msg, 'To'), undefined);
  assert.deepEqual(getHeaders(msg, 'to'), []);
});

test('withHeader replaces in place, addHeader appends, withoutHeader removes; inputs untouched', () => {
  const before = JSON.stringify(msg.headers);
  assert.deepEqual(withHeader(msg.headers, 'Via', 'SIP/2.0/TCP c'), [{ name: 'via', value: 'SIP/2.0/TCP c' }, { name: 'call-id', value: 'x@y' }]);
  assert.deepEqual(withHeader(msg.headers, 'l', '0').at(-1), { name: 'content-length', value: '0' });
  assert.equal(addHeader(msg.headers, 'v', 'z').length, 4);
  assert.deepEqual(withoutHeader(msg.headers, 'via'), [{ name: 'call-id', value: 'x@y' }]);
  assert.equal(JSON.stringify(msg.headers), before);
});

test('splitHeaderList respects quotes and angle brackets', () => {
  assert.deepEqual(splitHeaderList('"Doe, John" <sip:j@x;a=b,c>, <sip:k@y> ,, sip:z@w'), ['"Doe, John" <sip:j@x;a=b,c>', '<sip:k@y>', 'sip:z@w']);
  assert.deepEqual(splitHeaderList('"a \\", b" <sip:a@b>'), ['"a \\", b" <sip:a@b>']);
  assert.deepEqual(splitHeaderList(' , '), []);
});

test('parseHeaderParams reads generic params and stops at garbage', () => {
  assert.deepEqual(parseHeaderParams(';expires=60;Q=0.5;lr'), { expires: '60', q: '0.5', lr: null });
  assert.deepEqual(parseHeaderParams('active;expires=3600'), { active: null, expires: '3600' });
  assert.deepEqual(parseHeaderParams('a=1;;b=2'), { a: '1' });
  assert.deepEqual(parseHeaderParams('reason="x;y"'), { reason: '"x;y"' });
  const p = parseHeaderParams(';__proto__=1');
  assert.equal(Object.getPrototypeOf(p), Object.prototype);
  assert.equal(p['__proto__'], '1');
});

test('contentLength, parseDeltaSeconds and parseSipDate validate their ranges', () => {
  assert.equal(contentLength({ headers: [{ name: 'content-length', value: '12' }] }), 12);
  assert.equal(contentLength({ headers: [{ name: 'content-length', value: '-1' }] }), undefined);
  assert.equal(parseDeltaSeconds('3600'), 3600);
  assert.equal(parseDeltaSeconds('4294967296'), undefined);
  assert.equal(parseDeltaSeconds('10000000000000000000000000'), undefined);
  assert.equal(parseSipDate('Sat, 15 Oct 2005 04:44:56 GMT')?.toISOString(), '2005-10-15T04:44:56.000Z');
  assert.equal(parseSipDate('Fri, 01 Jan 2010 16:00:00 EST'), undefined);
  assert.equal(parseSipDate('Fri, 31 Feb 2010 16:00:00 GMT'), undefined);
});

test('readHeaderFields unfolds continuation lines and enforces limits', () => {
  const r = readHeaderFields(['Subject: a', '  b', '\tc', 'Xa: y'], 10, 100);
  assert.ok(r.ok);
  assert.deepEqual(r.fields, [{ name: 'subject', value: 'a b c' }, { name: 'xa', value: 'y' }]);
  const many = readHeaderFields(['A: 1', 'B: 2', 'C: 3'], 2, 100);
  assert.equal(many.ok, false);
  assert.equal(!many.ok && many.status, 513);
  const long = readHeaderFields(['A: ' + 'x'.repeat(50), ' ' + 'y'.repeat(60)], 10, 100);
  assert.equal(!long.ok && long.code, 'SIP_HEADER_TOO_LONG');
  assert.equal(readHeaderFields([' leading fold'], 10, 100).ok, false);
  assert.equal(readHeaderFields(['Bad Name: x'], 10, 100).ok, false);
  assert.equal(readHeaderFields(['NoColon'], 10, 100).ok, false);
});

test('wireHeaderName spells canonical names conventionally', () => {
  assert.equal(wireHeaderName('call-id'), 'Call-ID');
  assert.equal(wireHeaderName('cseq'), 'CSeq');
  assert.equal(wireHeaderName('www-authenticate'), 'WWW-Authenticate');
  assert.equal(wireHeaderName('x-foo-bar'), 'X-Foo-Bar');
});
