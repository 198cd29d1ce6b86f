import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCSeq, formatNameAddr, formatVia, parseCSeq, parseNameAddr, parseVia } from '../../../src/transport/sip/nameAddr.js';

test('parses a quoted display name with a comma and a tag', () => {
  assert.deepEqual(parseNameAddr('"Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423'), {
    displayName: 'Bell, Alexander', uri: 'sip:a.g.bell@example.com', params: { tag: '433423' },
  });
});

test('unescapes quoted-pairs in display names', () => {
  assert.equal(parseNameAddr('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>')?.displayName, 'J Rosenberg \\"');
  assert.equal(parseNameAddr('"BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f" <sip:x@example.com>')?.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
});

test('parses token display names, with or without LWS before <', () => {
  assert.deepEqual(parseNameAddr('caller<sip:caller@example.com>;tag=323'), { displayName: 'caller', uri: 'sip:caller@example.com', params: { tag: '323' } });
  assert.equal(parseNameAddr("token1~` token2'+_  token3*%!.- <sip:mundane@example.com>")?.displayName, "token1~` token2'+_ token3*%!.-");
});

test('bare addr-spec: parameters after the URI belong to the header', () => {
  assert.deepEqual(parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam'), { uri: 'sip:+19725552222@gw1.example.net', params: { unknownparam: null } });
  assert.deepEqual(parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>'), { uri: 'sip:+19725552222@gw1.example.net;unknownparam', params: {} });
  assert.deepEqual(parseNameAddr('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n'), { uri: 'sip:vivekg@chair-dnrc.example.com', params: { tag: '1918181833n' } });
});

test('accepts any URI scheme', () => {
  assert.equal(parseNameAddr('isbn:2983792873')?.uri, 'isbn:2983792873');
  assert.equal(parseNameAddr('<http://www.example.com>;tag=3234233')?.uri, 'http://www.example.com');
});

test('keeps quoted parameter values verbatim and lower-cases names', () => {
  assert.deepEqual(parseNameAddr('<sip:a@b>;+sip.Instance="<urn:uuid:1>";Expires=60;Q = 0.33')?.params, { '+sip.instance': '"<urn:uuid:1>"', expires: '60', q: '0.33' });
});

test('rejects the RFC 4475 malformed addresses', () => {
  for (const s of [
    '"Mr. J. User <sip:j.user@example.com>', // 3.1.2.6 unterminated quote
    'sip:user@example.com?Route=%3Csip:sip.example.com%3E', // 3.1.2.13 needs <>
    '"Watson, Thomas" < sip:t.watson@example.org >', // 3.1.2.14 spaces in addr-spec
    'Bell, Alexander <sip:a.g.bell@example.com>;tag=43', // 3.1.2.15 non-token display name
    '"Joe" <sip:joe@example.org>;;;;', // 3.1.2.1 empty params
    '', '<>', '<sip:a@b', 'sip:a@b;tag=', 'sip:a@b junk', '"x" sip:a@b', 'noscheme',
  ]) assert.equal(parseNameAddr(s), undefined, s);
});

test('formatNameAddr round-trips', () => {
  for (const s of ['"A \\"quoted\\" name" <sip:a@b>;tag=1;lr', '<sip:a@b;lr>', '"" <tel:+1>']) {
    const na = parseNameAddr(s);
    assert.ok(na, s);
    assert.equal(formatNameAddr(na), s);
  }
  assert.equal(formatNameAddr({ uri: 'sip:a@b', params: {} }), '<sip:a@b>');
});

test('parses Via with LWS everywhere (RFC 4475 3.1.1.1)', () => {
  assert.deepEqual(parseVia('SIP  / 2.0  / TCP     spindle.example.com   ; branch  =   z9hG4bK9ikj8'), {
    transport: 'TCP', host: 'spindle.example.com', params: { branch: 'z9hG4bK9ikj8' },
  });
  assert.deepEqual(parseVia('SIP/2.0/udp [2001:db8::9:1]:5070;branch=z9hG4bKx;rport;received=2001:db8::9:255'), {
    transport: 'UDP', host: '[2001:db8::9:1]', port: 5070, params: { branch: 'z9hG4bKx', rport: null, received: '2001:db8::9:255' },
  });
  assert.equal(parseVia('SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en')?.transport, 'UNKNOWN');
});

test('rejects malformed Via values', () => {
  for (const s of ['SIP/2.0/UDP 192.0.2.15;;', ';', 'SIP/7.0/UDP c.example.com', 'SIP/2.0 host', 'SIP/2.0/UDP', 'SIP/2.0/UDP h:70000', 'HTTP/2.0/UDP h', '']) {
    assert.equal(parseVia(s), undefined, s);
  }
});

test('formatVia writes the canonical form', () => {
  const v = parseVia('SIP / 2.0 / UDP host:5060 ; branch=z9hG4bK1;rport');
  assert.ok(v);
  assert.equal(formatVia(v), 'SIP/2.0/UDP host:5060;branch=z9hG4bK1;rport');
});

test('parses CSeq with leading zeros and folded LWS; rejects overlarge numbers', () => {
  assert.deepEqual(parseCSeq('0009 INVITE'), { seq: 9, method: 'INVITE' });
  assert.deepEqual(parseCSeq('4294967295 ACK'), { seq: 4294967295, method: 'ACK' });
  assert.equal(parseCSeq('4294967296 ACK'), undefined);
  assert.equal(parseCSeq('36893488147419103232 REGISTER'), undefined);
  assert.equal(parseCSeq('-1 INVITE'), undefined);
  assert.equal(parseCSeq('1'), undefined);
  assert.equal(parseCSeq('1 INVITE x'), undefined);
  assert.equal(formatCSeq({ seq: 7, method: 'BYE' }), '7 BYE');
});
