/**
 * RFC 4475 torture messages through a live stack over UDP (the codec-level expectations are in
 * rfc4475.test.ts). Each datagram goes to the stack's socket; what the stack sends back is
 * captured at its UDP transport (the torture messages' Vias point at 192.0.2.x and other
 * documentation hosts, so the answers cannot reach a test socket). Checks: a message the codec
 * rejects with a status is answered with that status when its Via is usable; every valid
 * request gets a response; an unparseable response is never answered; nothing reaches the
 * "internal error" path; the stack still answers OPTIONS afterwards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createSipStack, type SipStack } from '../../../src/transport/sip/stack.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { getHeader } from '../../../src/transport/sip/headers.js';
import { parseVia } from '../../../src/transport/sip/nameAddr.js';
import { serverKey } from '../../../src/transport/sip/transaction/table.js';

const dir = new URL('../../../../shared/conformance/rfc4475/', import.meta.url);
const skip = existsSync(fileURLToPath(dir)) ? false : 'RFC 4475 folder missing (rfc4475.test.ts fails for that)';

async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RFC 4475 torture messages through the stack over UDP', { skip, timeout: 30_000 }, () => {
  let stack: SipStack;
  let sock: Socket;
  const errors: string[] = [];
  // Raw text: a 400 copies From, To and CSeq as received (8.2.6.2), so it may not parse itself.
  const sent: { status: number; callId: string }[] = [];

  before(async () => {
    const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(line) });
    stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, timers: { t1: 50, t2: 200, t4: 250 } });
    stack.onRequest((r) => r.respond(r.request.method === 'INVITE' ? 486 : 200));
    // Capture every datagram the stack sends (and still send it).
    const udp = (stack as unknown as { udp: { send(d: Buffer, h: string, p: number): void } }).udp;
    const send = udp.send.bind(udp);
    udp.send = (data, host, port) => {
      const text = data.toString('latin1');
      const status = /^SIP\/2\.0 (\d{3}) /.exec(text);
      const callId = /\r\nCall-ID: *([^\r]*)\r\n/i.exec(text);
      if (status) sent.push({ status: Number(status[1]), callId: callId?.[1] ?? '' });
      send(data, host, port);
    };
    sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  });
  after(async () => {
    sock.close();
    await stack.close();
  });

  it('answers each rejected torture request with the codec status, never a broken response, and stays up', async () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.dat')).sort();
    assert.equal(files.length, 49);
    const expectStatus = new Map<string, number>(); // Call-ID -> status the codec gives
    const mustNotAnswer = new Set<string>();
    const mustAnswer = new Map<string, string>(); // valid requests (or for the TU to judge): Call-ID -> file
    const keys = new Set<string>();
    for (const file of files) {
      const data = readFileSync(new URL(file, dir));
      const r = parseMessage(data);
      const callId = r.ok ? getHeader(r.message, 'call-id') : r.partial?.headers.find((h) => h.name === 'call-id')?.value;
      if (!r.ok && callId) {
        if (r.error.status > 0 && r.partial?.kind === 'request' && r.partial.method !== 'ACK') expectStatus.set(callId, r.error.status);
        if (r.error.status === 0 || r.partial?.kind === 'response') mustNotAnswer.add(callId);
      }
      if (r.ok && r.message.kind === 'response' && callId) mustNotAnswer.add(callId);
      if (r.ok && r.message.kind === 'request' && r.message.method !== 'ACK' && callId) {
        // Some files reuse another's branch and sent-by (cparam01/02, ...): by 17.2.3 they match
        // the earlier one's transaction and get its response, so only the first must be answered.
        const via = parseVia(getHeader(r.message, 'via') ?? '');
        const key = via ? serverKey(via, r.message.method) : undefined;
        if (!key || !keys.has(key)) mustAnswer.set(callId, file);
        if (key) keys.add(key);
      }
      sock.send(data, stack.ports.udp!, '127.0.0.1');
    }
    // A sentinel OPTIONS after all of them: the stack handles datagrams in order.
    const got: string[] = [];
    sock.on('message', (d) => got.push(d.toString()));
    sock.send(
      'OPTIONS sip:parley@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKsentinel;rport\r\n' +
        'From: <sip:t@example.com>;tag=1\r\nTo: <sip:parley@example.com>\r\nCall-ID: sentinel\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
      stack.ports.udp!,
      '127.0.0.1',
    );
    await until(() => got.some((g) => g.startsWith('SIP/2.0 200')), 'the 200 to the sentinel OPTIONS');

    const byCallId = new Map<string, number[]>();
    for (const s of sent) byCallId.set(s.callId, [...(byCallId.get(s.callId) ?? []), s.status]);
    let answered = 0;
    for (const [callId, status] of expectStatus) {
      const list = byCallId.get(callId);
      if (!list) continue; // no usable Via to answer on (badinv01, badvers): logged, dropped
      answered++;
      assert.equal(list[0], status, callId);
    }
    assert.ok(answered >= expectStatus.size - 2, `${answered} of ${expectStatus.size} rejected requests answered`);
    const silent = [...mustAnswer].filter(([id]) => !byCallId.has(id)).map(([, f]) => f);
    assert.deepEqual(silent, [], 'valid requests left unanswered');
    for (const callId of mustNotAnswer) assert.equal(byCallId.get(callId), undefined, `${callId} answered`);
    assert.deepEqual(errors, [], 'no internal error');
  });
});
