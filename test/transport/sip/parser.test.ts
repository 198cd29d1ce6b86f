import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, parseRequestLine, parseStatusLine } from '../../../src/transport/sip/parser.js';
import { getHeader, getHeaders } from '../../../src/transport/sip/headers.js';
import { ProtocolError } from '../../../src/errors.js';

const crlf = (lines: string[], body = ''): Buffer => Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'utf8');

const base = [
  'MESSAGE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776',
  'Max-Forwards: 70',
  'From: "Doe, Jane" <sip:jane@example.com>;tag=49583',
  'To: <sip:bob@example.com>',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 1 MESSAGE',
  'Content-Type: text/plain;charset=UTF-8',
];

function expectError(data: Buffer, status: number, code?: string): ProtocolError {
  const r = parseMessage(data);
  assert.equal(r.ok, false);
  if (r.ok) throw new Error('unreachable');
  assert.equal(r.error.status, status, r.error.message);
  if (code !== undefined) assert.equal(r.error.code, code);
  return r.error;
}

test('parses a MESSAGE with a UTF-8 body: Content-Length counts bytes', () => {
  const body = 'Grüße 👋';
  assert.equal(Buffer.byteLength(body), 12);
  const r = parseMessage(crlf([...base, 'Content-Length: 12'], body));
  assert.ok(r.ok);
  const m = r.message;
  assert.equal(m.kind, 'request');
  if (m.kind !== 'request') return;
  assert.equal(m.method, 'MESSAGE');
  assert.equal(m.uri, 'sip:bob@example.com');
  assert.equal(m.body.toString('utf8'), body);
  assert.equal(getHeader(m, 'from'), '"Doe, Jane" <sip:jane@example.com>;tag=49583');
  assert.equal(getHeader(m, 'content-type'), 'text/plain;charset=UTF-8');
});

test('a Content-Length counted in characters cuts a UTF-8 body; one past the bytes is a 400', () => {
  const body = 'Grüße 👋';
  const r = parseMessage(crlf([...base, `Content-Length: ${body.length}`], body));
  assert.ok(r.ok);
  assert.equal(r.message.body.length, 8);
  expectError(crlf([...base, 'Content-Length: 13'], body), 400, 'SIP_BAD_CONTENT_LENGTH');
});

test('truncates a datagram body longer than Content-Length', () => {
  const r = parseMessage(crlf([...base, 'Content-Length: 5'], 'hello world'));
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'hello');
});

test('without Content-Length the body is the rest of the datagram', () => {
  const r = parseMessage(crlf(base, 'hi'));
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'hi');
});

test('unfolds folded headers and expands compact forms', () => {
  const r = parseMessage(crlf([
    'OPTIONS sip:bob@example.com SIP/2.0', 'v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1,', ' SIP/2.0/TCP b.example.com;branch=z9hG4bK2',
    'f: <sip:a@example.com>;tag=1', 't: sip:bob@example.com', 'i: abc', 'CSeq: 1', '  OPTIONS', 'm: <sip:a@1.2.3.4>', 'k: path, gruu',
    'Subject: folded', '\tsubject line', 'l: 0',
  ]));
  assert.ok(r.ok);
  const m = r.message;
  assert.deepEqual(getHeaders(m, 'via'), ['SIP/2.0/UDP a.example.com;branch=z9hG4bK1', 'SIP/2.0/TCP b.example.com;branch=z9hG4bK2']);
  assert.equal(getHeader(m, 'cseq'), '1 OPTIONS');
  assert.equal(getHeader(m, 'call-id'), 'abc');
  assert.deepEqual(getHeaders(m, 'supported'), ['path', 'gruu']);
  assert.equal(getHeader(m, 'subject'), 'folded subject line');
  assert.equal(m.headers.find((h) => h.name === 'contact')?.value, '<sip:a@1.2.3.4>');
});

test('splits list headers but not authorization or date headers', () => {
  const r = parseMessage(crlf([...base,
    'Contact: "Doe, Jane" <sip:jane@pc;a=b,c>, <sip:jane@tablet>',
    'Authorization: Digest username="jane", realm="example.com", nonce="x,y", uri="sip:bob@example.com", response="abc"',
    'Date: Sat, 13 Nov 2010 23:29:00 GMT',
    'Allow: INVITE, ACK,MESSAGE', 'Content-Length: 0']));
  assert.ok(r.ok);
  assert.deepEqual(getHeaders(r.message, 'contact'), ['"Doe, Jane" <sip:jane@pc;a=b,c>', '<sip:jane@tablet>']);
  assert.equal(getHeaders(r.message, 'authorization').length, 1);
  assert.equal(getHeaders(r.message, 'date').length, 1);
  assert.deepEqual(getHeaders(r.message, 'allow'), ['INVITE', 'ACK', 'MESSAGE']);
});

test('parses IPv6 Via, Contact and Request-URI', () => {
  const r = parseMessage(crlf(['OPTIONS sip:[2001:db8::1]:5060 SIP/2.0', 'Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bK1;received=2001:db8::9',
    'From: <sip:a@[2001:db8::9]>;tag=1', 'To: <sip:[2001:db8::1]>', 'Call-ID: x', 'CSeq: 2 OPTIONS', 'Contact: <sip:a@[2001:db8::9]:5060>', 'Content-Length: 0']));
  assert.ok(r.ok);
});

test('skips CRLFs before the start line (RFC 3261 7.5)', () => {
  const r = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), crlf([...base, 'Content-Length: 0'])]));
  assert.ok(r.ok);
});

test('accepts bare LF line ends', () => {
  const r = parseMessage(Buffer.from([...base, 'Content-Length: 2'].join('\n') + '\n\nhi'));
  assert.ok(r.ok);
  assert.equal(r.message.body.toString(), 'hi');
});

test('CSeq method must match the request method', () => {
  const e = expectError(crlf(base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 1 INVITE' : l))), 400, 'SIP_CSEQ_METHOD_MISMATCH');
  assert.equal(e.message, 'Bad Request - CSeq method does not match request method');
});

test('missing mandatory headers give 400 with the headers that parsed', () => {
  for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
    const data = crlf(base.filter((l) => !l.startsWith(name + ':')));
    const r = parseMessage(data);
    assert.equal(r.ok, false, name);
    if (r.ok) continue;
    assert.equal(r.error.status, 400);
    assert.equal(r.error.code, 'SIP_MISSING_HEADER');
    assert.match(r.error.message, new RegExp(`missing ${name}`));
    assert.equal(r.partial?.kind, 'request');
    assert.equal(r.partial?.method, 'MESSAGE');
    assert.equal(r.partial?.headers.length, base.length - 2);
  }
});

test('Max-Forwards is optional but must be 0-255 when present', () => {
  assert.ok(parseMessage(crlf(base.filter((l) => !l.startsWith('Max-Forwards')))).ok);
  assert.ok(parseMessage(crlf(base.map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: 0' : l)))).ok);
  expectError(crlf(base.map((l) => (l.startsWith('Max-Forwards') ? 'Max-Forwards: 256' : l))), 400, 'SIP_BAD_MAX_FORWARDS');
  expectError(crlf([...base, 'Max-Forwards: 3']), 400, 'SIP_DUPLICATE_HEADER');
});

test('CSeq number must fit 32 bits', () => {
  assert.ok(parseMessage(crlf(base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 4294967295 MESSAGE' : l)))).ok);
  expectError(crlf(base.map((l) => (l.startsWith('CSeq') ? 'CSeq: 4294967296 MESSAGE' : l))), 400, 'SIP_BAD_CSEQ');
});

test('unknown Request-URI schemes parse (the application answers 416)', () => {
  const r = parseMessage(crlf(['OPTIONS urn:service:sos SIP/2.0', ...base.slice(1).map((l) => (l.startsWith('CSeq') ? 'CSeq: 1 OPTIONS' : l))]));
  assert.ok(r.ok);
  assert.equal(r.message.kind === 'request' && r.message.uri, 'urn:service:sos');
});

test('a malformed sip Request-URI is a 400', () => {
  expectError(crlf(['MESSAGE sip:bob@exa mple.com SIP/2.0', ...base.slice(1)]), 400);
  expectError(crlf(['MESSAGE sip:bob@[::1 SIP/2.0', ...base.slice(1)]), 400, 'SIP_BAD_REQUEST_URI');
});

test('SIP/3.0 requests get 505', () => {
  expectError(crlf(['MESSAGE sip:bob@example.com SIP/3.0', ...base.slice(1)]), 505, 'SIP_BAD_VERSION');
});

test('size limits: message, header count, header line, body', () => {
  const limits = { maxMessageBytes: 1000, maxHeaders: 12, maxHeaderLineBytes: 200, maxBodyBytes: 10 };
  const r1 = parseMessage(crlf([...base, 'X-Big: ' + 'x'.repeat(1200)]), limits);
  assert.equal(!r1.ok && r1.error.status, 513);
  const r2 = parseMessage(crlf([...base, ...Array.from({ length: 10 }, (_, i) => `X-${i}: y`)]), limits);
  assert.equal(!r2.ok && r2.error.code, 'SIP_TOO_MANY_HEADERS');
  const r3 = parseMessage(crlf([...base, 'X-Long: ' + 'x'.repeat(300)]), limits);
  assert.equal(!r3.ok && r3.error.code, 'SIP_HEADER_TOO_LONG');
  const r4 = parseMessage(crlf([...base, 'Content-Length: 11'], 'x'.repeat(11)), limits);
  assert.equal(!r4.ok && r4.error.status, 413);
  const r5 = parseMessage(crlf([...base, 'Content-Length: 99999999999'], 'x'), limits);
  assert.equal(!r5.ok && r5.error.status, 413);
});

test('responses: parse status and reason, errors are status 0', () => {
  const resp = ['SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>;tag=2', 'Call-ID: x', 'CSeq: 1 INVITE', 'Content-Length: 0'];
  const r = parseMessage(crlf(resp));
  assert.ok(r.ok);
  assert.equal(r.message.kind === 'response' && r.message.status, 180);
  assert.equal(r.message.kind === 'response' && r.message.reason, 'Ringing');
  const bad = parseMessage(crlf(resp.filter((l) => !l.startsWith('Call-ID'))));
  assert.equal(!bad.ok && bad.error.status, 0);
  assert.equal(!bad.ok && bad.partial?.kind, 'response');
});

test('garbage never throws and answers nothing', () => {
  for (const s of ['', '\r\n\r\n', 'hello', '\x00\x01\x02\r\n\r\n', 'SIP/2.0\r\n\r\n', 'INVITE\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n']) {
    const r = parseMessage(Buffer.from(s, 'latin1'));
    assert.equal(r.ok, false, JSON.stringify(s));
  }
  assert.equal(parseMessage('x' as unknown as Buffer).ok, false);
});

test('parseRequestLine and parseStatusLine', () => {
  assert.deepEqual(parseRequestLine('INVITE sip:a@b SIP/2.0'), { method: 'INVITE', uri: 'sip:a@b' });
  assert.deepEqual(parseRequestLine('INVITE sip:a@b sip/2.0'), { method: 'INVITE', uri: 'sip:a@b' });
  assert.ok(parseRequestLine('INVITE  sip:a@b SIP/2.0') instanceof ProtocolError);
  assert.ok(parseRequestLine('INVITE <sip:a@b> SIP/2.0') instanceof ProtocolError);
  assert.ok(parseRequestLine('INV:TE sip:a@b SIP/2.0') instanceof ProtocolError);
  assert.deepEqual(parseStatusLine('SIP/2.0 100 '), { status: 100, reason: '' });
  assert.deepEqual(parseStatusLine('SIP/2.0 200'), { status: 200, reason: '' });
  assert.deepEqual(parseStatusLine('SIP/2.0 404 Not  Found '), { status: 404, reason: 'Not  Found ' });
  assert.ok(parseStatusLine('SIP/2.0 4294967301 x') instanceof ProtocolError);
  assert.ok(parseStatusLine('SIP/2.0 099 x') instanceof ProtocolError);
  assert.ok(parseStatusLine('SIP/2.0 700 x') instanceof ProtocolError);
});
