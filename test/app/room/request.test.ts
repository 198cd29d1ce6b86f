/**
 * Reading requests for rooms: which room (Request-URI, To, or X-Parley-App: conference), who
 * asks (P-Asserted-Identity before From), the chat offer (488 without MSRP or CPIM), and the
 * RFC 5366 dial-out list of a multipart INVITE.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolError } from '../../../src/errors.js';
import { readJoin, requesterOf, roomOf } from '../../../src/app/room/request.js';
import { buildMultipart } from '../../../src/transport/sip/multipart.js';
import type { SipHeader, SipRequest } from '../../../src/transport/sip/message.js';

const DOMAINS = ['conference.example.com'];
const req = (uri: string, headers: SipHeader[], body = ''): SipRequest => ({ kind: 'request', method: 'INVITE', uri, headers, body: Buffer.from(body) });
const SDP = (m: string) => `v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n${m}\r\n`;
const CHAT = 'm=message 7654 TCP/MSRP *\r\na=accept-types:message/cpim text/plain\r\na=path:msrp://10.0.0.1:7654/abc;tcp';

test('the room is the Request-URI in a conference domain, else To, else To with X-Parley-App: conference', () => {
  assert.equal(roomOf(req('sip:Dev@Conference.Example.com;transport=tcp', []), DOMAINS), 'sip:Dev@conference.example.com');
  assert.equal(roomOf(req('sip:10.0.0.5:5060', [{ name: 'to', value: '<sip:dev@conference.example.com>' }]), DOMAINS), 'sip:dev@conference.example.com');
  assert.equal(roomOf(req('sip:dev@other.example', [{ name: 'to', value: '<sip:dev@other.example>' }]), DOMAINS), undefined);
  assert.equal(
    roomOf(req('sip:10.0.0.5', [{ name: 'to', value: '<sip:dev@rooms.example>' }, { name: 'x-parley-app', value: 'Conference' }]), DOMAINS),
    'sip:dev@rooms.example',
  );
});

test('the requester is P-Asserted-Identity when present, else From', () => {
  const from = { name: 'from', value: '"Al" <sip:alice@example.com>;tag=1' };
  assert.deepEqual(requesterOf(req('sip:x@y', [from])), { uri: 'sip:alice@example.com', displayName: 'Al' });
  const asserted = req('sip:x@y', [from, { name: 'p-asserted-identity', value: '<sip:alice.real@example.com>' }]);
  assert.equal(requesterOf(asserted).uri, 'sip:alice.real@example.com');
  // Without a trust domain (SIP from anyone) the header is anyone's claim: From counts.
  assert.equal(requesterOf(asserted, false).uri, 'sip:alice@example.com');
});

test('a chat offer must offer MSRP with CPIM; 488 otherwise', () => {
  const ok = readJoin(req('sip:r@c', [{ name: 'content-type', value: 'application/sdp' }], SDP(CHAT)));
  assert.deepEqual(ok.offer.media.path, ['msrp://10.0.0.1:7654/abc;tcp']);
  assert.deepEqual(ok.dialOut, []);
  for (const bad of [SDP('m=audio 4000 RTP/AVP 0'), SDP(CHAT.replace('message/cpim ', '')), '']) {
    assert.throws(() => readJoin(req('sip:r@c', [{ name: 'content-type', value: 'application/sdp' }], bad)), (e: unknown) => e instanceof ProtocolError && e.status === 488);
  }
});

test('a multipart INVITE carries the offer and an RFC 5366 dial-out list', () => {
  const list = '<?xml version="1.0"?><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:bob@example.com"/><entry uri="sip:carol@example.com"/></list></resource-lists>';
  const mp = buildMultipart([
    { contentType: 'application/sdp', body: Buffer.from(SDP(CHAT)) },
    { contentType: 'application/resource-lists+xml', headers: [{ name: 'content-disposition', value: 'recipient-list' }], body: Buffer.from(list) },
  ]);
  const r = req('sip:r@c', [{ name: 'content-type', value: mp.contentType }]);
  const withBody = { ...r, body: mp.body };
  const join = readJoin(withBody);
  assert.equal(join.offer.media.port, 7654);
  assert.deepEqual(join.dialOut, ['sip:bob@example.com', 'sip:carol@example.com']);
  const broken = { ...r, body: Buffer.from(mp.body.toString('utf8').replace('</resource-lists>', '')) };
  assert.throws(() => readJoin(broken), (e: unknown) => e instanceof ProtocolError && e.status === 400, 'a malformed list is a 400');
});
