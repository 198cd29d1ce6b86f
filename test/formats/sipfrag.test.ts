import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { buildSipfrag, isFinalSipfragStatus, parseSipfrag } from '../../src/formats/sipfrag.js';

describe('message/sipfrag', () => {
  it('builds the RFC 3515 progress status lines', () => {
    assert.equal(buildSipfrag(100), 'SIP/2.0 100 Trying\r\n');
    assert.equal(buildSipfrag(200), 'SIP/2.0 200 OK\r\n');
    assert.equal(buildSipfrag(503, 'Service Unavailable'), 'SIP/2.0 503 Service Unavailable\r\n');
    assert.equal(buildSipfrag(299), 'SIP/2.0 299 Success\r\n');
    assert.equal(buildSipfrag(486, 'Busy\r\nX-Injected: 1'), 'SIP/2.0 486 Busy X-Injected: 1\r\n');
    assert.throws(() => buildSipfrag(99), RangeError);
    assert.ok(!isFinalSipfragStatus(180));
    assert.ok(isFinalSipfragStatus(200));
    assert.ok(isFinalSipfragStatus(603));
  });

  it('parses a status line alone, with headers, and with LF line ends', () => {
    assert.deepEqual(parseSipfrag('SIP/2.0 200 OK\r\n'), { status: 200, reason: 'OK', headers: [], body: '' });
    assert.deepEqual(parseSipfrag('SIP/2.0 100 Trying'), { status: 100, reason: 'Trying', headers: [], body: '' });
    // RFC 3420 section 4 style: status line, headers, blank line, body.
    const f = parseSipfrag('SIP/2.0 603 Declined\r\nContact: <sip:a@b>\r\nX-Long: one\r\n two\r\n\r\nbody text');
    assert.ok(!(f instanceof ProtocolError));
    assert.equal(f.status, 603);
    assert.deepEqual(f.headers, [{ name: 'Contact', value: '<sip:a@b>' }, { name: 'X-Long', value: 'one two' }]);
    assert.equal(f.body, 'body text');
    assert.deepEqual(parseSipfrag('SIP/2.0 180 Ringing\nTo: <sip:x@y>\n'), { status: 180, reason: 'Ringing', headers: [{ name: 'To', value: '<sip:x@y>' }], body: '' });
  });

  it('parses a request line and a headers-only fragment', () => {
    const r = parseSipfrag('INVITE sip:alice@atlanta.com SIP/2.0\r\nFrom: <sip:b@c>;tag=1\r\n');
    assert.ok(!(r instanceof ProtocolError));
    assert.equal(r.method, 'INVITE');
    assert.equal(r.uri, 'sip:alice@atlanta.com');
    const h = parseSipfrag('Subject: hi\r\n');
    assert.ok(!(h instanceof ProtocolError));
    assert.equal(h.status, undefined);
    assert.deepEqual(h.headers, [{ name: 'Subject', value: 'hi' }]);
  });

  it('refuses malformed fragments with 400 and oversized ones with 413', () => {
    for (const bad of ['', 'SIP/2.0 20 OK\r\n', 'SIP/3.0 200 OK', 'SIP/2.0 200 OK\r\nno colon here\r\n', ' folded first\r\n', 'SIP/2.0 700 Nope']) {
      const r = parseSipfrag(bad);
      assert.ok(r instanceof ProtocolError, JSON.stringify(bad));
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    const big = parseSipfrag('SIP/2.0 200 OK\r\n' + 'X: y\r\n'.repeat(40));
    assert.ok(big instanceof ProtocolError && big.status === 413);
    const huge = parseSipfrag('SIP/2.0 200 ' + 'x'.repeat(9000));
    assert.ok(huge instanceof ProtocolError && huge.status === 413);
  });

  it('parse(build(status, reason)) gives them back', () => {
    const reason = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 699 }), fc.option(reason, { nil: undefined }), (status, r) => {
        const f = parseSipfrag(buildSipfrag(status, r));
        assert.ok(!(f instanceof ProtocolError));
        assert.equal(f.status, status);
        if (r !== undefined) assert.equal(f.reason, r);
      }),
    );
  });
});
