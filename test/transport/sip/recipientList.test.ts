import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ProtocolError } from '../../../src/errors.js';
import { buildMultipart } from '../../../src/transport/sip/multipart.js';
import type { SipRequest } from '../../../src/transport/sip/message.js';
import { inviteBodies } from '../../../src/transport/sip/recipientList.js';
import { buildResourceLists } from '../../../src/formats/resourceLists.js';

const sdp = Buffer.from('v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=message 7654 TCP/MSRP *\r\n');
const list = Buffer.from(buildResourceLists([{ uri: 'sip:bill@example.com', copyControl: 'to' }, { uri: 'sip:joe@example.org' }]));

function invite(contentType: string | undefined, body: Buffer): SipRequest {
  return { kind: 'request', method: 'INVITE', uri: 'sip:conf-fact@example.com', headers: contentType ? [{ name: 'content-type', value: contentType }] : [], body };
}

it('reads the SDP and the recipient list of an RFC 5366 list INVITE', () => {
  const mp = buildMultipart([
    { contentType: 'application/sdp', body: sdp },
    { contentType: 'application/resource-lists+xml', headers: [{ name: 'content-disposition', value: 'recipient-list' }], body: list },
  ]);
  const r = inviteBodies(invite(mp.contentType, mp.body));
  assert.ok(!(r instanceof ProtocolError));
  assert.deepEqual(r.sdp, sdp);
  assert.deepEqual(r.recipients?.entries.map((e) => e.uri), ['sip:bill@example.com', 'sip:joe@example.org']);
});

it('gives the SDP alone for a plain INVITE, and nothing for no body', () => {
  assert.deepEqual(inviteBodies(invite('application/sdp', sdp)), { sdp });
  assert.deepEqual(inviteBodies(invite(undefined, Buffer.alloc(0))), {});
});

it('ignores a resource list without the recipient-list disposition', () => {
  const mp = buildMultipart([{ contentType: 'application/sdp', body: sdp }, { contentType: 'application/resource-lists+xml', body: list }]);
  assert.deepEqual(inviteBodies(invite(mp.contentType, mp.body)), { sdp });
});

it('refuses a malformed list (400), too many recipients (413), two lists (400)', () => {
  const part = (body: Buffer) => ({ contentType: 'application/resource-lists+xml', headers: [{ name: 'content-disposition', value: 'recipient-list;handling=required' }], body });
  const bad = buildMultipart([{ contentType: 'application/sdp', body: sdp }, part(Buffer.from('<resource-lists><list><entry/></list></resource-lists>'))]);
  const r1 = inviteBodies(invite(bad.contentType, bad.body));
  assert.ok(r1 instanceof ProtocolError && r1.status === 400);
  const many = buildMultipart([part(list)]);
  const r2 = inviteBodies(invite(many.contentType, many.body), { maxEntries: 1 });
  assert.ok(r2 instanceof ProtocolError && r2.status === 413);
  const two = buildMultipart([part(list), part(list)]);
  const r3 = inviteBodies(invite(two.contentType, two.body));
  assert.ok(r3 instanceof ProtocolError && r3.status === 400);
  const r4 = inviteBodies(invite('multipart/mixed', Buffer.from('junk')));
  assert.ok(r4 instanceof ProtocolError && r4.status === 400);
});
