import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { buildCpim, getCpimHeader, parseCpim, serializeCpim, type CpimMessage } from '../../src/formats/cpim.js';
import { IMDN_NS, imdnHeaders, readImdn } from '../../src/formats/imdn.js';

const SAMPLE = [
  'From: "Alice \\"A\\" Liddell" <sip:alice@example.com>',
  'To: <sip:room@conf.example.com>',
  'DateTime: 2026-11-22T10:00:00Z',
  'Subject:;lang=en Tea party',
  'NS: imdn <urn:ietf:params:imdn>',
  'imdn.Message-ID: 34jk324j',
  'imdn.Disposition-Notification: positive-delivery, display',
  '',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello, world \u2603\r\nsecond line',
].join('\r\n');

function ok(m: CpimMessage | ProtocolError): CpimMessage {
  if (m instanceof ProtocolError) throw m;
  return m;
}

test('parses From with a quoted display name, To, DateTime, Subject, NS and the inner content', () => {
  const m = ok(parseCpim(Buffer.from(SAMPLE)));
  assert.deepEqual(m.from, { displayName: 'Alice "A" Liddell', uri: 'sip:alice@example.com' });
  assert.deepEqual(m.to, [{ uri: 'sip:room@conf.example.com' }]);
  assert.equal(m.dateTime, '2026-11-22T10:00:00Z');
  assert.equal(m.subject, 'Tea party');
  assert.deepEqual(m.namespaces, { imdn: 'urn:ietf:params:imdn' });
  assert.equal(m.contentType, 'text/plain; charset=utf-8');
  assert.equal(m.body.toString(), 'Hello, world \u2603\r\nsecond line');
});

test('serializes back byte for byte', () => {
  assert.equal(serializeCpim(ok(parseCpim(Buffer.from(SAMPLE)))).toString(), SAMPLE);
});

test('resolves namespaced IMDN headers through the prefix the message declared', () => {
  const m = ok(parseCpim(Buffer.from(SAMPLE.replaceAll('imdn', 'xy').replace('urn:ietf:params:xy', IMDN_NS))));
  assert.equal(getCpimHeader(m, IMDN_NS, 'Message-ID'), '34jk324j');
  assert.deepEqual(readImdn(m), { messageId: '34jk324j', notifications: ['positive-delivery', 'display'] });
});

test('builds a message that parses to the same addresses and IMDN request', () => {
  const m = buildCpim({
    from: { displayName: 'Nick "N"', uri: 'sip:nick@example.com' },
    to: [{ uri: 'sip:room@conf.example.com' }],
    dateTime: '2026-11-22T10:00:00Z',
    ns: { imdn: IMDN_NS },
    extra: imdnHeaders('abc123', ['positive-delivery']),
    contentType: 'text/plain',
    body: 'hi',
  });
  const again = ok(parseCpim(serializeCpim(m)));
  assert.deepEqual(again.from, { displayName: 'Nick "N"', uri: 'sip:nick@example.com' });
  assert.deepEqual(readImdn(again), { messageId: 'abc123', notifications: ['positive-delivery'] });
  assert.equal(again.body.toString(), 'hi');
});

test('rejects malformed CPIM with 400', () => {
  for (const s of ['From sip:a@b\r\n\r\nContent-Type: t/p\r\n\r\nx', 'From: <sip:a@b>\r\nContent-Type: t/p\r\n\r\nx', 'From: no-brackets\r\n\r\nContent-Type: t/p\r\n\r\n', 'DateTime: yesterday\r\n\r\n\r\n']) {
    const r = parseCpim(Buffer.from(s));
    assert.ok(r instanceof ProtocolError, s);
    assert.equal(r.status, 400);
  }
});

test('random input never throws', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 500 }), (b) => {
      parseCpim(Buffer.from(b));
    }),
  );
});
