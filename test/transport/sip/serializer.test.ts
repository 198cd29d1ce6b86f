import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse, serializeMessage } from '../../../src/transport/sip/serializer.js';
import { reasonPhrase } from '../../../src/formats/sipReasons.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { getHeader, getHeaders } from '../../../src/transport/sip/headers.js';
import type { SipRequest } from '../../../src/transport/sip/message.js';

const req: SipRequest = {
  kind: 'request',
  method: 'INVITE',
  uri: 'sip:room@conf.example.com',
  headers: [
    { name: 'via', value: 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2' },
    { name: 'via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.1' },
    { name: 'record-route', value: '<sip:proxy.example.com;lr>' },
    { name: 'max-forwards', value: '69' },
    { name: 'from', value: '"Doe, Jane" <sip:jane@example.com>;tag=1' },
    { name: 'to', value: '<sip:room@conf.example.com>' },
    { name: 'call-id', value: 'abc@192.0.2.1' },
    { name: 'cseq', value: '7 INVITE' },
    { name: 'timestamp', value: '54' },
    { name: 'contact', value: '<sip:jane@192.0.2.1>' },
    { name: 'content-type', value: 'text/plain' },
  ],
  body: Buffer.from('Grüße 👋', 'utf8'),
};

test('writes CRLF lines, wire-case names and a byte-accurate Content-Length', () => {
  const out = serializeMessage(req).toString('utf8');
  assert.ok(out.startsWith('INVITE sip:room@conf.example.com SIP/2.0\r\nVia: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2\r\n'));
  assert.match(out, /\r\nCall-ID: abc@192\.0\.2\.1\r\n/);
  assert.match(out, /\r\nCSeq: 7 INVITE\r\n/);
  assert.match(out, /\r\nContent-Length: 12\r\n\r\nGrüße 👋$/);
  assert.ok(!/[^\r]\n/.test(out));
});

test('replaces a wrong Content-Length in place and drops duplicates', () => {
  const m = { ...req, headers: [...req.headers.slice(0, 3), { name: 'content-length', value: '999' }, ...req.headers.slice(3), { name: 'content-length', value: '1' }] };
  const out = serializeMessage(m).toString('utf8');
  assert.equal(out.match(/Content-Length/g)?.length, 1);
  assert.match(out, /Record-Route: <sip:proxy.example.com;lr>\r\nContent-Length: 12\r\n/);
});

test('parse(serialize(m)) gives m back with its Content-Length', () => {
  const r = parseMessage(serializeMessage(req));
  assert.ok(r.ok);
  assert.deepEqual(r.message, { ...req, headers: [...req.headers, { name: 'content-length', value: '12' }] });
});

test('CR and LF in values cannot inject header lines', () => {
  const m = { ...req, headers: [...req.headers, { name: 'subject', value: 'hi\r\nVia: SIP/2.0/UDP evil' }] };
  const r = parseMessage(serializeMessage(m));
  assert.ok(r.ok);
  assert.equal(getHeaders(r.message, 'via').length, 2);
  assert.equal(getHeader(r.message, 'subject'), 'hi Via: SIP/2.0/UDP evil');
});

test('serializes a response with an empty reason and no body', () => {
  const out = serializeMessage({ kind: 'response', status: 100, reason: '', headers: [], body: Buffer.alloc(0) }).toString();
  assert.equal(out, 'SIP/2.0 100 \r\nContent-Length: 0\r\n\r\n');
});

test('buildResponse copies Via (in order), From, To + tag, Call-ID, CSeq and Record-Route for 2xx to INVITE', () => {
  const res = buildResponse(req, 200, undefined, { toTag: 'xyz', headers: [{ name: 'contact', value: '<sip:room@conf.example.com>;isfocus' }] });
  assert.equal(res.reason, 'OK');
  assert.deepEqual(res.headers.map((h) => h.name), ['via', 'via', 'from', 'to', 'call-id', 'cseq', 'record-route', 'contact']);
  assert.deepEqual(getHeaders(res, 'via'), getHeaders(req, 'via'));
  assert.equal(getHeader(res, 'to'), '<sip:room@conf.example.com>;tag=xyz');
  assert.equal(res.body.length, 0);
});

test('buildResponse keeps an existing To tag and omits Record-Route outside 101-299 or for MESSAGE', () => {
  const inDialog = { ...req, headers: req.headers.map((h) => (h.name === 'to' ? { name: 'to', value: '<sip:room@conf.example.com>;tag=abc' } : h)) };
  assert.equal(getHeader(buildResponse(inDialog, 200, 'OK', { toTag: 'new' }), 'to'), '<sip:room@conf.example.com>;tag=abc');
  assert.equal(getHeader(buildResponse(req, 486, undefined, { toTag: 't' }), 'record-route'), undefined);
  const message = { ...req, method: 'MESSAGE', headers: req.headers.map((h) => (h.name === 'cseq' ? { name: 'cseq', value: '7 MESSAGE' } : h)) };
  assert.equal(getHeader(buildResponse(message, 200), 'record-route'), undefined);
  assert.equal(getHeader(buildResponse({ ...req, method: 'SUBSCRIBE', headers: req.headers.map((h) => (h.name === 'cseq' ? { name: 'cseq', value: '1 SUBSCRIBE' } : h)) }, 202), 'record-route'), '<sip:proxy.example.com;lr>');
});

test('buildResponse copies Timestamp into 100 Trying only (RFC 3261 8.2.6.1)', () => {
  assert.equal(getHeader(buildResponse(req, 100), 'timestamp'), '54');
  assert.equal(getHeader(buildResponse(req, 180), 'timestamp'), undefined);
});

test('buildResponse works on the partial headers of a broken request (400)', () => {
  const broken = { ...req, headers: req.headers.map((h) => (h.name === 'to' ? { name: 'to', value: '"Unterminated <sip:x@y>' } : h)) };
  assert.equal(getHeader(buildResponse(broken, 400, 'Bad Request - malformed To', { toTag: 'q' }), 'to'), '"Unterminated <sip:x@y>;tag=q');
});

test('reasonPhrase knows the table and falls back to the class', () => {
  assert.equal(reasonPhrase(202), 'Accepted');
  assert.equal(reasonPhrase(481), 'Call/Transaction Does Not Exist');
  assert.equal(reasonPhrase(489), 'Bad Event');
  assert.equal(reasonPhrase(499), 'Request Failure');
  assert.equal(reasonPhrase(199), 'Early Dialog Terminated');
});
