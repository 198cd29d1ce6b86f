import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aorOf, formatUri, parseUri, uriScheme } from '../../../src/transport/sip/uri.js';

test('parses a sip URI with user, port, params and headers', () => {
  assert.deepEqual(parseUri('sip:alice@Example.COM:5070;transport=TCP;LR?Subject=hi%20there&Priority=urgent'), {
    scheme: 'sip',
    user: 'alice',
    host: 'Example.COM',
    port: 5070,
    params: { transport: 'TCP', lr: null },
    headers: { Subject: 'hi there', Priority: 'urgent' },
  });
});

test('parses a sips URI without user part', () => {
  assert.deepEqual(parseUri('sips:conf.example.com'), { scheme: 'sips', host: 'conf.example.com', params: {}, headers: {} });
});

test('parses IPv6 references with and without port', () => {
  assert.equal(parseUri('sip:bob@[2001:db8::10]')?.host, '[2001:db8::10]');
  const u = parseUri('sip:[::1]:5060;transport=udp');
  assert.equal(u?.host, '[::1]');
  assert.equal(u?.port, 5060);
  assert.equal(parseUri('sip:bob@[2001:db8::10'), undefined);
  assert.equal(parseUri('sip:bob@[zz::1]'), undefined);
});

test('decodes escapes in user, password and params', () => {
  const u = parseUri('sip:sips%3Auser%40example.com@example.net');
  assert.equal(u?.user, 'sips:user@example.com');
  const c = parseUri('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
  assert.equal(c?.user, 'caller');
  assert.deepEqual(c?.params, { lr: null, name: 'value%41' });
  assert.equal(parseUri('sip:null-%00-null@example.com')?.user, 'null-\u0000-null');
});

test('keeps ";", "?" and ":" of the user part (RFC 4475 3.1.1.2, 3.1.1.9)', () => {
  assert.equal(parseUri('sip:user;par=u%40example.net@example.com')?.user, 'user;par=u@example.net');
  const u = parseUri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
  assert.equal(u?.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  assert.equal(u?.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  assert.equal(u?.host, 'example.com');
});

test('parses tel URIs', () => {
  assert.deepEqual(parseUri('tel:+1-201-555-0123;phone-context=example.com'), {
    scheme: 'tel', user: '+1-201-555-0123', host: '', params: { 'phone-context': 'example.com' }, headers: {},
  });
  assert.equal(parseUri('tel:'), undefined);
});

test('returns undefined for unknown schemes and garbage, never throws', () => {
  for (const s of ['nobodyKnowsThisScheme:totallyopaquecontent', 'http://x', '', 'sip:', 'sip:a b@c', 'sip:user@', 'sip:u@h:99999',
    'sip:u@h:port', 'sip:u@h;;x', 'sip:%zz@h', '<sip:a@b>', 'sip:a@b?x', 'sip:a@-bad-.com', '\u0000', 'sip:a@b\u00e9']) {
    assert.equal(parseUri(s), undefined, s);
  }
  assert.equal(parseUri(undefined as unknown as string), undefined);
});

test('formatUri re-escapes and round-trips', () => {
  const samples = [
    'sip:alice@example.com',
    'sip:sips%3Auser%40example.com@example.net',
    'sip:user;par=u%40example.net@example.com',
    'sips:bob:secret@[2001:db8::1]:5061;transport=tls;lr?subject=a%20b',
    'tel:+15551234;phone-context=example.com',
    'sip:I%20have%20spaces@example.net',
  ];
  for (const s of samples) {
    const u = parseUri(s);
    assert.ok(u, s);
    assert.equal(formatUri(u), s);
    assert.deepEqual(parseUri(formatUri(u)), u);
  }
  assert.equal(formatUri({ scheme: 'sip', user: 'a b<c>', host: 'h', params: { x: 'y z' }, headers: { h: '<sip:x>' } }),
    'sip:a%20b%3Cc%3E@h;x=y%20z?h=%3Csip:x%3E');
});

test('uriScheme reads any scheme', () => {
  assert.equal(uriScheme('soap.beep://192.0.2.103:3002'), 'soap.beep');
  assert.equal(uriScheme('SIP:x'), 'sip');
  assert.equal(uriScheme('<sip:x>'), undefined);
});

test('aorOf lower-cases the host and drops port, params and sips', () => {
  assert.equal(aorOf('sips:Alice@Example.COM:5061;transport=tls'), 'sip:Alice@example.com');
  assert.equal(aorOf('sip:room@Conf.Example.com.'), 'sip:room@conf.example.com');
  assert.equal(aorOf('sip:example.com'), 'sip:example.com');
  assert.equal(aorOf('sip:a%20b@h'), 'sip:a%20b@h');
  assert.equal(aorOf('tel:+123'), 'tel:+123');
  assert.equal(aorOf('mailto:x@y'), undefined);
  const u = parseUri('sip:bob@H');
  assert.ok(u);
  assert.equal(aorOf(u), 'sip:bob@h');
});
