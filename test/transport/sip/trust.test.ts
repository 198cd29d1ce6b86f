import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isTrusted, parseTrustList } from '../../../src/transport/sip/trust.js';

describe('trusted peers', () => {
  it('trusts everyone when the list is empty', () => {
    assert.equal(isTrusted(parseTrustList([]), '203.0.113.9'), true);
  });

  it('matches IPv4 networks and single addresses', () => {
    const l = parseTrustList(['10.0.0.0/8', '192.0.2.7', '172.16.0.0/12']);
    assert.equal(isTrusted(l, '10.255.1.2'), true);
    assert.equal(isTrusted(l, '11.0.0.1'), false);
    assert.equal(isTrusted(l, '192.0.2.7'), true);
    assert.equal(isTrusted(l, '192.0.2.8'), false);
    assert.equal(isTrusted(l, '172.31.255.255'), true);
    assert.equal(isTrusted(l, '172.32.0.0'), false);
  });

  it('matches an IPv4-mapped IPv6 source against IPv4 entries', () => {
    const l = parseTrustList(['127.0.0.0/8']);
    assert.equal(isTrusted(l, '::ffff:127.0.0.1'), true);
    assert.equal(isTrusted(l, '::1'), false);
  });

  it('matches IPv6 networks with compressed forms and brackets', () => {
    const l = parseTrustList(['2001:db8::/32', '::1', 'fe80::1:2/126']);
    assert.equal(isTrusted(l, '2001:db8:ffff::5'), true);
    assert.equal(isTrusted(l, '2001:db9::5'), false);
    assert.equal(isTrusted(l, '[::1]'), true);
    assert.equal(isTrusted(l, '0:0:0:0:0:0:0:1'), true);
    assert.equal(isTrusted(l, 'fe80::1:3'), true);
    assert.equal(isTrusted(l, 'fe80::1:4'), false);
    assert.equal(isTrusted(l, '10.0.0.1'), false);
  });

  it('accepts /0 as everything of that family', () => {
    const l = parseTrustList(['0.0.0.0/0']);
    assert.equal(isTrusted(l, '8.8.8.8'), true);
    assert.equal(isTrusted(l, '2001:db8::1'), false);
  });

  it('refuses garbage entries and prefix lengths', () => {
    assert.throws(() => parseTrustList(['example.com']), /not an IP/);
    assert.throws(() => parseTrustList(['10.0.0.0/33']), /prefix/);
    assert.throws(() => parseTrustList(['::/129']), /prefix/);
    assert.equal(isTrusted(parseTrustList(['10.0.0.0/8']), 'garbage'), false);
  });
});

describe('trusted peers, embedded IPv4 in IPv6', () => {
  it('parses a dotted tail inside an IPv6 network', () => {
    const l = parseTrustList(['64:ff9b::192.0.2.0/120']);
    assert.equal(isTrusted(l, '64:ff9b::c000:2ff'), true);
    assert.equal(isTrusted(l, '64:ff9b::c000:3ff'), false);
  });
});
