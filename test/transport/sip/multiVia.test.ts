/**
 * A response copies every Via of the request (RFC 3261 8.2.6.2), also when the stack stamps the
 * top one with `received`/`rport` (18.2.1, RFC 3581): the stack used to keep only the top Via
 * then, so a response through a proxy lost the proxy's Via.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import pino from 'pino';
import { createSipStack, type SipStack } from '../../../src/transport/sip/stack.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { getHeaders } from '../../../src/transport/sip/headers.js';

describe('SIP stack: Vias of the request in the response', () => {
  let stack: SipStack;
  let sock: Socket;
  before(async () => {
    stack = await createSipStack({ host: '127.0.0.1', port: 0, tcp: false, logger: pino({ level: 'silent' }) });
    stack.onRequest((r) => r.respond(200));
    sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  });
  after(async () => {
    sock.close();
    await stack.close();
  });

  async function exchange(text: string): Promise<string[]> {
    const got = new Promise<Buffer>((r) => sock.once('message', (d) => r(d)));
    sock.send(Buffer.from(text), stack.ports.udp!, '127.0.0.1');
    const res = parseMessage(await got);
    assert.ok(res.ok);
    return getHeaders(res.message, 'via');
  }

  // The response goes to received + rport, or received + the sent-by port: ours in each case.
  for (const [label, topParams, stamped] of [
    ['stamped with rport and received', ';rport', true],
    ['stamped with received only', '', true],
    ['not stamped', '', false],
  ] as const) {
    it(`keeps the lower Vias in order when the top one is ${label}`, { timeout: 5000 }, async () => {
      const local = sock.address().port;
      const sentBy = `${stamped ? '192.0.2.7' : '127.0.0.1'}:${topParams ? 5999 : local}`;
      const vias = await exchange(
        `MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\n` +
          `Via: SIP/2.0/UDP ${sentBy};branch=z9hG4bK-top-${label.length}${topParams}\r\n` +
          `Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-mid\r\n` +
          `v: SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK-low, SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK-last\r\n` +
          `From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: via-${label.length}\r\n` +
          `CSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n`,
      );
      assert.equal(vias.length, 4);
      assert.match(vias[0], /branch=z9hG4bK-top/);
      if (stamped) assert.match(vias[0], /received=127\.0\.0\.1/);
      else assert.doesNotMatch(vias[0], /received=/);
      assert.deepEqual(vias.slice(1), [
        'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-mid',
        'SIP/2.0/TCP 10.0.0.2;branch=z9hG4bK-low',
        'SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK-last',
      ]);
    });
  }
});
