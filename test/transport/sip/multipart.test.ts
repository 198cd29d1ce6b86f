import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildMultipart, multipartBoundary, parseMultipart } from '../../../src/transport/sip/multipart.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { getHeader } from '../../../src/transport/sip/headers.js';
import { ProtocolError } from '../../../src/errors.js';

const sdp = Buffer.from('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7654 TCP/MSRP *\r\n');
const list = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:bill@example.com"/></list></resource-lists>');

test('round-trips an RFC 5366 list INVITE body (SDP + recipient-list)', () => {
  const built = buildMultipart([
    { contentType: 'application/sdp', body: sdp },
    { contentType: 'application/resource-lists+xml', headers: [{ name: 'content-disposition', value: 'recipient-list' }], body: list },
  ], 'boundary1');
  assert.equal(built.contentType, 'multipart/mixed;boundary=boundary1');
  const r = parseMultipart(built.contentType, built.body);
  assert.ok(!(r instanceof ProtocolError));
  assert.equal(r.parts.length, 2);
  assert.equal(getHeader(r.parts[0], 'content-type'), 'application/sdp');
  assert.deepEqual(r.parts[0].body, sdp);
  assert.equal(getHeader(r.parts[1], 'Content-Disposition'), 'recipient-list');
  assert.deepEqual(r.parts[1].body, list);
});

test('a random boundary never occurs in the parts', () => {
  const built = buildMultipart([{ contentType: 'text/plain', body: Buffer.from('--x') }]);
  const b = multipartBoundary(built.contentType);
  assert.ok(b !== undefined && b.startsWith('parley-'));
  assert.throws(() => buildMultipart([{ contentType: 'text/plain', body: Buffer.from('a --abc b') }], 'abc'), RangeError);
});

test('parses the binary multipart of RFC 4475 3.1.1.11 (mpart01)', () => {
  const r = parseMessage(readFileSync(new URL('../../../../shared/conformance/rfc4475/mpart01.dat', import.meta.url)));
  assert.ok(r.ok);
  const ct = getHeader(r.message, 'content-type');
  assert.ok(ct);
  const mp = parseMultipart(ct, r.message.body);
  assert.ok(!(mp instanceof ProtocolError));
  assert.equal(mp.parts.length, 2);
  assert.equal(mp.parts[0].body.toString(), 'Hello');
  assert.equal(getHeader(mp.parts[1], 'content-type'), 'application/octet-stream');
  assert.equal(mp.parts[1].body[0], 0x30); // DER SEQUENCE, binary bytes untouched
  assert.equal(mp.parts[1].body.length, 342);
});

test('quoted boundaries, preamble, epilogue, padding and bare LF', () => {
  const body = Buffer.from('preamble text\r\n--a b:c  \r\nContent-Type: text/plain\r\n\r\none\r\n--a b:c\nContent-Type: text/html\n\ntwo\n--a b:c--\r\nepilogue --a b:c');
  const r = parseMultipart('multipart/alternative; boundary="a b:c"', body);
  assert.ok(!(r instanceof ProtocolError));
  assert.deepEqual(r.parts.map((p) => p.body.toString()), ['one', 'two']);
});

test('a part without headers has the default type and keeps its body', () => {
  const r = parseMultipart('multipart/mixed;boundary=x', Buffer.from('--x\r\n\r\nbody\r\n--x--'));
  assert.ok(!(r instanceof ProtocolError));
  assert.deepEqual(r.parts[0].headers, []);
  assert.equal(r.parts[0].body.toString(), 'body');
});

test('rejects missing boundaries and unterminated bodies with 400, too many parts with 413', () => {
  const cases: Array<[string, string]> = [
    ['multipart/mixed', '--x\r\n\r\na\r\n--x--'],
    ['text/plain;boundary=x', '--x\r\n\r\na\r\n--x--'],
    ['multipart/mixed;boundary=x', 'no delimiter here'],
    ['multipart/mixed;boundary=x', '--x\r\n\r\na\r\n'],
    ['multipart/mixed;boundary=x', '--xjunk\r\n\r\na\r\n--x--'],
    ['multipart/mixed;boundary=' + 'y'.repeat(71), '--x'],
  ];
  for (const [ct, b] of cases) {
    const r = parseMultipart(ct, Buffer.from(b));
    assert.ok(r instanceof ProtocolError, ct + ' ' + b);
    assert.equal(r.status, 400);
  }
  const many = buildMultipart(Array.from({ length: 5 }, () => ({ contentType: 'text/plain', body: Buffer.from('x') })), 'b');
  const r = parseMultipart(many.contentType, many.body, { maxParts: 4 });
  assert.ok(r instanceof ProtocolError);
  assert.equal(r.status, 413);
});
