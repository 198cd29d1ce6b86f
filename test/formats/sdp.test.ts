import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../src/errors.js';
import {
  acceptTypesTake,
  answerSetup,
  buildMsrpAnswer,
  buildMsrpOffer,
  negotiateAcceptTypes,
  parseMsrpOffer,
  type MsrpMediaDescription,
} from '../../src/formats/sdp.js';

const OFFER = [
  'v=0',
  'o=alice 2890844526 2890844527 IN IP4 alice.example.com',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 49170 RTP/AVP 0',
  'm=message 7654 TCP/MSRP *',
  'a=accept-types:message/cpim text/plain',
  'a=accept-wrapped-types:text/plain image/*',
  'a=max-size:131072',
  'a=path:msrp://192.0.2.10:7654/jshA7weztas;tcp',
  'a=setup:actpass',
  'a=chatroom:nickname private-messages',
  '',
].join('\r\n');

function ok(r: MsrpMediaDescription | ProtocolError): MsrpMediaDescription {
  if (r instanceof ProtocolError) throw r;
  return r;
}

test('reads path, accept types, wrapped types, max-size, setup and chatroom from the m=message line', () => {
  const m = ok(parseMsrpOffer(OFFER));
  assert.equal(m.mediaIndex, 1);
  assert.equal(m.port, 7654);
  assert.equal(m.tls, false);
  assert.equal(m.address, '192.0.2.10');
  assert.deepEqual(m.path, ['msrp://192.0.2.10:7654/jshA7weztas;tcp']);
  assert.deepEqual(m.acceptTypes, ['message/cpim', 'text/plain']);
  assert.deepEqual(m.acceptWrappedTypes, ['text/plain', 'image/*']);
  assert.equal(m.maxSize, 131072);
  assert.equal(m.setup, 'actpass');
  assert.deepEqual(m.chatroom, ['nickname', 'private-messages']);
});

test('an SDP without a usable m=message line is refused with 488', () => {
  for (const sdp of [
    OFFER.replace('m=message 7654', 'm=message 0'),
    OFFER.replace('TCP/MSRP', 'UDP/MSRP'),
    OFFER.replace(/a=path:.*\r\n/, ''),
    'garbage',
  ]) {
    const r = parseMsrpOffer(sdp);
    assert.ok(r instanceof ProtocolError);
    assert.equal(r.status, 488);
  }
});

test('an offer built by Parley parses back to the same media description (TLS too)', () => {
  const sdp = buildMsrpOffer({
    address: '127.0.0.1',
    port: 2855,
    path: 'msrps://127.0.0.1:2855/abc;tcp',
    acceptTypes: ['message/cpim'],
    acceptWrappedTypes: ['*'],
    maxSize: 1000,
    tls: true,
    chatroom: ['nickname'],
  });
  assert.match(sdp, /m=message 2855 TCP\/TLS\/MSRP \*/);
  const m = ok(parseMsrpOffer(sdp));
  assert.deepEqual(m.path, ['msrps://127.0.0.1:2855/abc;tcp']);
  assert.equal(m.setup, 'actpass');
  assert.deepEqual(m.acceptWrappedTypes, ['*']);
  assert.deepEqual(m.chatroom, ['nickname']);
});

test('the answer takes the RFC 6135 role opposite to the offer', () => {
  assert.equal(answerSetup('active'), 'passive');
  assert.equal(answerSetup('passive'), 'active');
  assert.equal(answerSetup('actpass'), 'passive');
  assert.equal(answerSetup('actpass', 'active'), 'active');
  assert.equal(answerSetup(undefined), 'passive');
  const offer = ok(parseMsrpOffer(OFFER.replace('actpass', 'passive')));
  const answer = ok(
    parseMsrpOffer(buildMsrpAnswer(offer, { address: '127.0.0.1', port: 9, path: 'msrp://127.0.0.1:9/x;tcp', acceptTypes: ['text/plain'] })),
  );
  assert.equal(answer.setup, 'active');
});

test('negotiates accept-types with wildcards and keeps message/cpim only with a common wrapped type', () => {
  assert.deepEqual(negotiateAcceptTypes({ acceptTypes: ['message/cpim', 'text/plain'] }, { acceptTypes: ['text/plain'] }), {
    acceptTypes: ['text/plain'],
    acceptWrappedTypes: [],
  });
  assert.deepEqual(negotiateAcceptTypes({ acceptTypes: ['*'] }, { acceptTypes: ['message/cpim', 'text/plain'] }), {
    acceptTypes: ['message/cpim', 'text/plain'],
    acceptWrappedTypes: ['*'],
  });
  assert.deepEqual(
    negotiateAcceptTypes(
      { acceptTypes: ['message/cpim'], acceptWrappedTypes: ['text/plain', 'image/*'] },
      { acceptTypes: ['message/cpim'], acceptWrappedTypes: ['image/png', 'text/html'] },
    ),
    { acceptTypes: ['message/cpim'], acceptWrappedTypes: ['image/png'] },
  );
  assert.deepEqual(negotiateAcceptTypes({ acceptTypes: ['text/*'] }, { acceptTypes: ['text/plain', 'image/png'] }).valueOf(), {
    acceptTypes: ['text/plain'],
    acceptWrappedTypes: [],
  });
  const none = negotiateAcceptTypes({ acceptTypes: ['image/png'] }, { acceptTypes: ['text/plain'] });
  assert.ok(none instanceof ProtocolError && none.status === 488);
  const cpimOnly = negotiateAcceptTypes(
    { acceptTypes: ['message/cpim'], acceptWrappedTypes: ['image/png'] },
    { acceptTypes: ['message/cpim'], acceptWrappedTypes: ['text/plain'] },
  );
  assert.ok(cpimOnly instanceof ProtocolError && cpimOnly.status === 488);
});

test('an accept-types list takes a type by name, type/* or *, in any case', () => {
  assert.equal(acceptTypesTake(['message/*'], 'message/cpim'), true);
  assert.equal(acceptTypesTake(['message/*'], 'text/plain'), false, 'message/* is not text');
  assert.equal(acceptTypesTake(['text/*'], 'message/cpim'), false);
  assert.equal(acceptTypesTake(['Text/Plain'], 'text/plain'), true);
  assert.equal(acceptTypesTake(['*'], 'application/im-iscomposing+xml'), true);
  assert.equal(acceptTypesTake([], 'text/plain'), false);
});
