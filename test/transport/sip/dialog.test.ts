import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SipRequest, SipResponse } from '../../../src/transport/sip/message.js';
import {
  buildInDialogRequest,
  createUacDialog,
  createUasDialog,
  dialogIdOfRequest,
  dialogIdOfResponse,
  onRemoteRequest,
  onRefreshResponse,
} from '../../../src/transport/sip/dialog.js';

const h = (msg: { headers: readonly { name: string; value: string }[] }, n: string) =>
  msg.headers.filter((x) => x.name === n).map((x) => x.value);

const invite: SipRequest = {
  kind: 'request',
  method: 'INVITE',
  uri: 'sip:room@conf.example.com',
  headers: [
    { name: 'via', value: 'SIP/2.0/UDP p2.example.com;branch=z9hG4bK2' },
    { name: 'via', value: 'SIP/2.0/UDP a.example.com;branch=z9hG4bK1' },
    { name: 'record-route', value: '<sip:p2.example.com;lr>' },
    { name: 'record-route', value: '<sip:p1.example.com;lr>' },
    { name: 'from', value: '"Alice" <sip:alice@example.com>;tag=ra' },
    { name: 'to', value: '<sip:room@conf.example.com>' },
    { name: 'call-id', value: 'call-1' },
    { name: 'cseq', value: '314 INVITE' },
    { name: 'contact', value: '<sip:alice@192.0.2.4:5070;transport=tcp>' },
  ],
  body: Buffer.alloc(0),
};

describe('UAS dialog', () => {
  const d = createUasDialog(invite, 'lt');

  it('takes ids, URIs, remote CSeq, Record-Route in order and the Contact as remote target', () => {
    assert.deepEqual(d, {
      callId: 'call-1',
      localTag: 'lt',
      remoteTag: 'ra',
      localUri: 'sip:room@conf.example.com',
      remoteUri: 'sip:alice@example.com',
      localCSeq: 0,
      remoteCSeq: 314,
      routeSet: ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>'],
      remoteTarget: 'sip:alice@192.0.2.4:5070;transport=tcp',
      secure: false,
      role: 'uas',
    });
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'serializable');
  });

  it('builds a BYE to the remote target with the route set, tags and the next local CSeq', () => {
    const { dialog, request } = buildInDialogRequest(d, 'BYE');
    assert.equal(request.uri, 'sip:alice@192.0.2.4:5070;transport=tcp');
    assert.deepEqual(h(request, 'route'), ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    assert.deepEqual(h(request, 'from'), ['<sip:room@conf.example.com>;tag=lt']);
    assert.deepEqual(h(request, 'to'), ['<sip:alice@example.com>;tag=ra']);
    assert.deepEqual(h(request, 'cseq'), ['1 BYE']);
    assert.equal(dialog.localCSeq, 1);
    const second = buildInDialogRequest(dialog, 'NOTIFY', { body: 'x', headers: [{ name: 'event', value: 'conference' }] });
    assert.deepEqual(h(second.request, 'cseq'), ['2 NOTIFY']);
    assert.deepEqual(h(second.request, 'event'), ['conference']);
    assert.equal(second.request.body.toString(), 'x');
  });

  it('keeps the CSeq for ACK', () => {
    const { dialog, request } = buildInDialogRequest({ ...d, localCSeq: 5 }, 'ACK');
    assert.deepEqual(h(request, 'cseq'), ['5 ACK']);
    assert.equal(dialog.localCSeq, 5);
  });

  it('uses a strict router as Request-URI and appends the remote target as last Route', () => {
    const { request } = buildInDialogRequest({ ...d, routeSet: ['<sip:strict.example.com>', '<sip:p1.example.com;lr>'] }, 'INFO');
    assert.equal(request.uri, 'sip:strict.example.com');
    assert.deepEqual(h(request, 'route'), ['<sip:p1.example.com;lr>', '<sip:alice@192.0.2.4:5070;transport=tcp>']);
  });

  it('rejects an out-of-order CSeq with 500 and refreshes the target on re-INVITE', () => {
    const old = { ...invite, headers: invite.headers.map((x) => (x.name === 'cseq' ? { name: 'cseq', value: '314 BYE' } : x)) };
    assert.deepEqual(onRemoteRequest(d, { ...old, method: 'BYE' }), { ok: false, status: 500, reason: 'Server Internal Error - CSeq out of order' });
    const reinvite: SipRequest = {
      ...invite,
      headers: invite.headers.map((x) =>
        x.name === 'cseq' ? { name: 'cseq', value: '315 INVITE' } : x.name === 'contact' ? { name: 'contact', value: '<sip:alice@192.0.2.9>' } : x,
      ),
    };
    const r = onRemoteRequest(d, reinvite);
    assert.ok(r.ok);
    assert.equal(r.dialog.remoteCSeq, 315);
    assert.equal(r.dialog.remoteTarget, 'sip:alice@192.0.2.9');
  });

  it('identifies in-dialog requests by To tag', () => {
    assert.equal(dialogIdOfRequest(invite), undefined);
    const inDialog = { ...invite, headers: invite.headers.map((x) => (x.name === 'to' ? { name: 'to', value: '<sip:room@conf.example.com>;tag=lt' } : x)) };
    assert.deepEqual(dialogIdOfRequest(inDialog), { callId: 'call-1', localTag: 'lt', remoteTag: 'ra' });
  });
});

describe('UAC dialog', () => {
  const ok: SipResponse = {
    kind: 'response',
    status: 200,
    reason: 'OK',
    headers: [
      { name: 'record-route', value: '<sip:p2.example.com;lr>' },
      { name: 'record-route', value: '<sip:p1.example.com;lr>' },
      { name: 'from', value: '"Alice" <sip:alice@example.com>;tag=ra' },
      { name: 'to', value: '<sip:room@conf.example.com>;tag=rb' },
      { name: 'call-id', value: 'call-1' },
      { name: 'cseq', value: '314 INVITE' },
      { name: 'contact', value: '<sip:room@10.0.0.5:5060>;isfocus' },
    ],
    body: Buffer.alloc(0),
  };

  it('reverses Record-Route, takes the response Contact and our CSeq', () => {
    const d = createUacDialog(invite, ok);
    assert.deepEqual(d.routeSet, ['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    assert.equal(d.remoteTarget, 'sip:room@10.0.0.5:5060');
    assert.equal(d.localCSeq, 314);
    assert.equal(d.localTag, 'ra');
    assert.equal(d.remoteTag, 'rb');
    assert.equal(d.role, 'uac');
    assert.deepEqual(dialogIdOfResponse(ok), { callId: 'call-1', localTag: 'ra', remoteTag: 'rb' });
    const { request } = buildInDialogRequest(d, 'REFER');
    assert.deepEqual(h(request, 'cseq'), ['315 REFER']);
    assert.equal(request.uri, 'sip:room@10.0.0.5:5060');
  });

  it('throws a 400 ProtocolError for a 2xx without Contact', () => {
    assert.throws(
      () => createUacDialog(invite, { ...ok, headers: ok.headers.filter((x) => x.name !== 'contact') }),
      (e: unknown) => (e as { status: number }).status === 400,
    );
  });

  it('updates the remote target from a 2xx to a re-INVITE only', () => {
    const d = createUacDialog(invite, ok);
    const moved = { ...ok, headers: ok.headers.map((x) => (x.name === 'contact' ? { name: 'contact', value: '<sip:room@10.0.0.6>' } : x)) };
    assert.equal(onRefreshResponse(d, moved).remoteTarget, 'sip:room@10.0.0.6');
    assert.equal(onRefreshResponse(d, { ...moved, status: 488 }).remoteTarget, 'sip:room@10.0.0.5:5060');
  });
});
