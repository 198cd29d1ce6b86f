/**
 * RFC 4975 8.6: a participant's `a=max-size` bounds what the room sends it. The relay skips
 * (and counts, and logs) a message over the limit for that participant only. Two real MSRP
 * endpoints on 127.0.0.1: the room's and a participant's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import type { IncomingMessage, MsrpSession } from '../../../src/transport/msrp/session.js';
import { Relay } from '../../../src/app/room/relay.js';
import { until } from '../../transport/msrp/helpers.js';

async function participant(room: MsrpEndpoint, phone: MsrpEndpoint, maxSize: number | undefined): Promise<{ roomSide: MsrpSession; got: IncomingMessage[] }> {
  const roomSide = room.createSession({ setup: 'passive', acceptTypes: ['message/cpim'] });
  const phoneSide = phone.createSession({ setup: 'active', acceptTypes: ['message/cpim'] });
  roomSide.setRemote({ path: [phoneSide.localUri], maxSize });
  phoneSide.setRemote({ path: [roomSide.localUri] });
  const got: IncomingMessage[] = [];
  phoneSide.on('message', (m) => {
    got.push(m);
    m.accept();
  });
  await phoneSide.connect();
  await until(() => roomSide.connection !== undefined);
  return { roomSide, got };
}

test("a message over a participant's a=max-size is not relayed to it; the others get it", async () => {
  const logger = pino({ level: 'silent' });
  const room = new MsrpEndpoint({ listen: { port: 0 }, logger });
  const phone = new MsrpEndpoint({ listen: { port: 0 }, logger });
  await room.start();
  await phone.start();
  try {
    const small = await participant(room, phone, 200);
    const large = await participant(room, phone, undefined);
    const relay = new Relay(room, logger, () => assert.fail('nobody is slow'));
    const short = Buffer.from('x'.repeat(150));
    const long = Buffer.from('y'.repeat(300));
    relay.send([small.roomSide.id, large.roomSide.id], short);
    relay.send([small.roomSide.id, large.roomSide.id], long);
    await until(() => large.got.length === 2);
    await until(() => relay.isIdle(small.roomSide.id));
    assert.deepEqual(small.got.map((m) => m.body.length), [150], 'only what fits its a=max-size:200');
    assert.deepEqual(large.got.map((m) => m.body.length), [150, 300]);
    assert.equal(relay.tooLarge, 1);
  } finally {
    await room.close();
    await phone.close();
  }
});
