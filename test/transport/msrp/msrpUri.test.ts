import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../../src/errors.js';
import { formatMsrpUri, msrpUriEquals, parseMsrpPath, parseMsrpUri } from '../../../src/transport/msrp/msrpUri.js';

function uri(s: string) {
  const u = parseMsrpUri(s);
  if (u instanceof ProtocolError) throw u;
  return u;
}

test('parses host, port, session id, transport and user', () => {
  const u = uri('msrps://bob@Biloxi.example.com:12763/kjhd37s2s20w2a;tcp;foo=bar');
  assert.equal(u.scheme, 'msrps');
  assert.equal(u.user, 'bob');
  assert.equal(u.host, 'Biloxi.example.com');
  assert.equal(u.port, 12763);
  assert.equal(u.sessionId, 'kjhd37s2s20w2a');
  assert.equal(u.transport, 'tcp');
  assert.deepEqual(u.params, ['foo=bar']);
  assert.equal(formatMsrpUri(u), 'msrps://bob@Biloxi.example.com:12763/kjhd37s2s20w2a;tcp;foo=bar');
  assert.equal(uri('msrp://[2001:db8::1]:2855/abc;tcp').host, '[2001:db8::1]');
});

test('rejects URIs without session id, transport, or with a bad port', () => {
  for (const s of ['msrp://h:1/;tcp', 'msrp://h:1/abc', 'msrp://h:99999/abc;tcp', 'sip://h/abc;tcp', 'msrp://h:1/a b;tcp', 'msrp:///abc;tcp']) {
    assert.ok(parseMsrpUri(s) instanceof ProtocolError, s);
  }
});

test('compares per RFC 4975 section 6.1: host case-insensitive, default port, session id case-sensitive', () => {
  assert.ok(msrpUriEquals(uri('msrp://H.example:2855/abc;TCP'), uri('msrp://h.example/abc;tcp')));
  assert.ok(!msrpUriEquals(uri('msrp://h.example/abc;tcp'), uri('msrp://h.example/ABC;tcp')));
  assert.ok(!msrpUriEquals(uri('msrp://h.example/abc;tcp'), uri('msrps://h.example/abc;tcp')));
});

test('parses a path of several URIs', () => {
  const p = parseMsrpPath('msrp://a:1/x;tcp msrp://b:2/y;tcp');
  assert.ok(Array.isArray(p));
  assert.equal(p.length, 2);
});
