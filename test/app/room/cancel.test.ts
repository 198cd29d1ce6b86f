/**
 * CANCEL before the answer (issue 5 item 3), on the real runtime with a fake SipTransport so
 * that the CANCEL lands deterministically before the room's 200: the joiner is removed, its
 * MSRP session closed, no BYE sent, and the ad-hoc room it created ends. Also: a join to a
 * room without a usable offer (no MSRP, or MSRP over TLS to a TCP room) is answered 488
 * before any room exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import { Store } from '../../../src/actors/store.js';
import { Supervisor } from '../../../src/actors/supervisor.js';
import { createRoomApplication } from '../../../src/app/room/application.js';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import type { SipRequest, SipResponse } from '../../../src/transport/sip/message.js';
import type { IncomingRequest, OutgoingRequest, SipTransport } from '../../../src/transport/sip/transport.js';
import { tempDir } from '../../helpers/runtime.js';
import { until } from './fixture.js';

const logger = pino({ level: 'silent' });
const ROOM = 'sip:quiet@conference.parley.example';

class FakeSip implements SipTransport {
  readonly sent: OutgoingRequest[] = [];
  cancel: ((r: IncomingRequest) => void) | undefined;
  onRequest(): void {}
  onCancel(h: (r: IncomingRequest) => void): void {
    this.cancel = h;
  }
  onAckTimeout(): void {}
  async sendRequest(r: OutgoingRequest): Promise<SipResponse> {
    this.sent.push(r);
    return { kind: 'response', status: 200, reason: 'OK', headers: [], body: Buffer.alloc(0) };
  }
  sendAck(): void {}
  contactUri(): string {
    return 'sip:127.0.0.1:5060';
  }
  async close(): Promise<void> {}
}

function invite(sdp: string): { req: IncomingRequest; answers: number[] } {
  const request: SipRequest = {
    kind: 'request',
    method: 'INVITE',
    uri: ROOM,
    headers: [
      { name: 'from', value: '<sip:alice@example.com>;tag=a1' },
      { name: 'to', value: `<${ROOM}>` },
      { name: 'call-id', value: 'cancel-1' },
      { name: 'cseq', value: '1 INVITE' },
      { name: 'contact', value: '<sip:alice@127.0.0.1:5070>' },
      { name: 'content-type', value: 'application/sdp' },
    ],
    body: Buffer.from(sdp),
  };
  const answers: number[] = [];
  const req: IncomingRequest = {
    request,
    source: { host: '127.0.0.1', port: 5070, transport: 'udp' },
    localTag: 'room-tag-1',
    get answered() {
      return answers.length > 0;
    },
    cancelled: false,
    respond(status) {
      answers.push(status);
    },
  };
  return { req, answers };
}

const OFFER = 'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=message 9 TCP/MSRP *\r\na=accept-types:message/cpim\r\na=path:msrp://127.0.0.1:9/abcdefgh;tcp\r\na=setup:actpass\r\n';

test('CANCEL before the answer removes the joiner without a BYE and ends the ad-hoc room it created', async () => {
  const dir = tempDir('parley-room-cancel-');
  const clock = new SimulatedClock();
  const store = new Store({ path: dir.path });
  const sip = new FakeSip();
  const msrp = new MsrpEndpoint({ listen: { host: '127.0.0.1', port: 0 }, clock, logger });
  await msrp.start();
  let sup!: Supervisor;
  const app = createRoomApplication({ store, sip, msrp, clock, logger, domains: ['conference.parley.example'], dispatcher: () => sup });
  sup = new Supervisor({ store, clock, logger, kinds: [...app.kinds], effects: { storeWrites: app.storeWrites, execute: app.execute } });
  sup.start();
  try {
    const { req } = invite(OFFER);
    assert.ok(app.accepts(req));
    app.handle(req);
    // The INVITE's handler runs in a microtask and hands JOIN to the room at once; the CANCEL
    // comes right after, before the room's commit (the transport answered 487 itself).
    await null;
    sip.cancel?.({ ...req, cancelled: true });
    await until(() => sup.peek('room', ROOM) === undefined && !sup.isResident('room', ROOM) && msrp.sessionCount === 0, 'room ended, session closed');
    await store.settled();
    assert.equal(store.snapshots.get(['room', ROOM]), undefined);
    assert.deepEqual(sip.sent.filter((r) => 'method' in r && r.method === 'BYE'), [], 'no BYE for a cancelled join');

    const { req: audio, answers } = invite(OFFER.replace('m=message 9 TCP/MSRP *', 'm=audio 4000 RTP/AVP 0'));
    app.handle(audio);
    await until(() => answers.length > 0, 'answered');
    assert.deepEqual(answers, [488]);
    assert.equal(sup.peek('room', ROOM), undefined, 'no room for a refused offer');
    // MSRP over TLS offered to a plain-TCP room: 488 too.
    const { req: tls, answers: tlsAnswers } = invite(OFFER.replace('TCP/MSRP', 'TCP/TLS/MSRP').replace('msrp://', 'msrps://'));
    app.handle(tls);
    await until(() => tlsAnswers.length > 0, 'answered');
    assert.deepEqual(tlsAnswers, [488]);
    assert.equal(msrp.sessionCount, 0);
  } finally {
    await app.stop();
    await sup.stop();
    await msrp.close();
    await store.close();
    dir.remove();
  }
});
