/**
 * SIGKILL of the server in the middle of a chat burst: every SEND the room answered 200 is in
 * the room's history afterwards (the 200 goes out only after the history row's commit). The
 * server runs in a child process; this process joins it over SIP (its own stack) and sends
 * over MSRP with many messages in flight.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnServerFixture } from '../../helpers/child.js';
import { join } from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../../src/clock.js';
import { Store } from '../../../src/actors/store.js';
import { RoomHistory } from '../../../src/app/room/history.js';
import { buildCpim, serializeCpim } from '../../../src/formats/cpim.js';
import { buildMsrpOffer, parseMsrpOffer } from '../../../src/formats/sdp.js';
import { ProtocolError } from '../../../src/errors.js';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import { createSipStack } from '../../../src/transport/sip/stack.js';
import { createUacDialog } from '../../../src/transport/sip/dialog.js';
import type { SipRequest } from '../../../src/transport/sip/message.js';
import { tempDir } from '../../helpers/runtime.js';

const logger = pino({ level: 'silent' });
const ROOM = 'sip:crash@conference.parley.example';

test('a SIGKILL during a chat burst loses no message answered 200', { timeout: 60_000 }, async () => {
  const dir = tempDir('parley-room-crash-');
  const ua = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock: systemClock() });
  const msrp = new MsrpEndpoint({ listen: { host: '127.0.0.1', port: 0 }, clock: systemClock(), logger });
  await msrp.start();
  const { child: server, port: started } = spawnServerFixture(join('test', 'app', 'room', 'fixtures', 'roomServer.ts'), dir.path);
  try {
    const port = await started;
    // Join: INVITE with an MSRP offer, 200, ACK, MSRP connection.
    const session = msrp.createSession({ setup: 'active' });
    const sdp = buildMsrpOffer({ address: '127.0.0.1', port: 9, path: session.localUri, acceptTypes: ['message/cpim'], setup: 'actpass' });
    const invite: SipRequest = {
      kind: 'request', method: 'INVITE', uri: ROOM, body: Buffer.from(sdp),
      headers: [
        { name: 'from', value: '<sip:alice@example.com>;tag=crash1' }, { name: 'to', value: `<${ROOM}>` }, { name: 'call-id', value: 'crash-call-1' },
        { name: 'cseq', value: '1 INVITE' }, { name: 'contact', value: `<${ua.contactUri()}>` }, { name: 'content-type', value: 'application/sdp' },
      ],
    };
    const res = await ua.sendRequest(invite, { destination: { host: '127.0.0.1', port, transport: 'udp' } });
    assert.equal(res.status, 200);
    const answer = parseMsrpOffer(res.body.toString());
    assert.ok(!(answer instanceof ProtocolError));
    ua.sendAck(createUacDialog(invite, res), res);
    session.setRemote({ path: answer.path });
    assert.equal((await session.connect()).status, 200);

    // Burst: up to 50 SENDs in flight until the kill.
    const accepted: string[] = [];
    let n = 0;
    let killed = false;
    const sender = async () => {
      while (!killed) {
        const text = `burst ${n++}`;
        const body = serializeCpim(buildCpim({ from: { uri: 'sip:alice@example.com' }, to: [{ uri: ROOM }], contentType: 'text/plain', body: text }));
        const r = await session.send(body, 'message/cpim');
        if (r.status === 200) accepted.push(text);
      }
    };
    const senders = Array.from({ length: 50 }, () => sender());
    const until = Date.now() + 10_000;
    while (accepted.length < 300 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    server.kill('SIGKILL');
    killed = true;
    await new Promise((r) => server.on('close', r));
    session.close();
    await Promise.all(senders);
    assert.ok(accepted.length >= 300, `the burst was under way (${accepted.length} answered 200)`);

    const store = new Store({ path: dir.path });
    try {
      const kept = new Set(new RoomHistory(store).latest(ROOM, 100_000).map((m) => Buffer.from(m.body, 'base64').toString()));
      const lost = accepted.filter((t) => !kept.has(t));
      assert.deepEqual(lost, [], `${lost.length} of ${accepted.length} answered 200 but not in the history`);
    } finally {
      await store.close();
    }
  } finally {
    server.kill('SIGKILL');
    await msrp.close();
    await ua.close();
    dir.remove();
  }
});
