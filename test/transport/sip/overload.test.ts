/**
 * Overload regression tests: a stack with a small `maxTransactions` flooded from a socket in
 * the test answers 503 with Retry-After to what does not fit (never evicting, never staying
 * silent), keeps Completed transactions over UDP as compact entries until timer J (on a
 * simulated clock), then serves normally again. Every wait has a deadline and every test a
 * timeout, so a regression fails the suite instead of hanging it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import pino from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import { createSipStack, DEFAULT_MAX_TRANSACTIONS, type SipStack } from '../../../src/transport/sip/stack.js';
import type { IncomingRequest } from '../../../src/transport/sip/transport.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { SipStreamFramer } from '../../../src/transport/sip/framing.js';
import { defaultSipLimits } from '../../../src/transport/sip/limits.js';
import type { SipResponse } from '../../../src/transport/sip/message.js';
import { getHeader } from '../../../src/transport/sip/headers.js';
import { TransactionTable } from '../../../src/transport/sip/transaction/table.js';
import { procAddress, UdpTransport } from '../../../src/transport/sip/udp.js';
import { endianness } from 'node:os';

const logger = pino({ level: 'silent' });
const TEST_TIMEOUT = { timeout: 20_000 };

function message(n: number, transport: 'UDP' | 'TCP', port: number, branch = `z9hG4bKflood${n}`): string {
  const body = `hello ${n}`;
  return (
    `MESSAGE sip:parley@127.0.0.1 SIP/2.0\r\n` +
    `Via: SIP/2.0/${transport} 127.0.0.1:${port};branch=${branch};rport\r\n` +
    `From: <sip:alice@example.com>;tag=f${n}\r\n` +
    `To: <sip:parley@example.com>\r\n` +
    `Call-ID: flood-${n}\r\n` +
    `CSeq: 1 MESSAGE\r\n` +
    `Max-Forwards: 70\r\n` +
    `Content-Type: text/plain\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Waits for `pred` with a deadline (real time), polling. */
async function until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Responses by Call-ID. */
class Collector {
  readonly byCallId = new Map<string, SipResponse[]>();
  count = 0;
  add(res: SipResponse): void {
    const id = getHeader(res, 'call-id') ?? '';
    const list = this.byCallId.get(id) ?? [];
    list.push(res);
    this.byCallId.set(id, list);
    this.count++;
  }
  statuses(): Map<number, number> {
    const m = new Map<number, number>();
    for (const list of this.byCallId.values()) for (const r of list) m.set(r.status, (m.get(r.status) ?? 0) + 1);
    return m;
  }
}

describe('overload: transaction table full over UDP', TEST_TIMEOUT, () => {
  const MAX = 20;
  const FLOOD = 200;
  let stack: SipStack;
  let clock: SimulatedClock;
  let sock: Socket;
  let port: number;
  const got = new Collector();
  const delivered: IncomingRequest[] = [];

  before(async () => {
    clock = new SimulatedClock();
    stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock, maxTransactions: MAX });
    stack.onRequest((r) => {
      delivered.push(r);
      r.respond(200);
    });
    sock = createSocket('udp4');
    sock.on('message', (d) => {
      const r = parseMessage(d);
      if (r.ok && r.message.kind === 'response') got.add(r.message);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    port = sock.address().port;
  });
  after(async () => {
    sock.close();
    await stack.close();
  });

  it('answers every request of a flood: 200 while there is room, then 503 with Retry-After', async () => {
    for (let i = 0; i < FLOOD; i++) sock.send(message(i, 'UDP', port), stack.ports.udp!, '127.0.0.1');
    await until(() => got.count >= FLOOD, `${FLOOD} responses (got ${got.count})`);
    const s = got.statuses();
    assert.equal(s.get(200), MAX, 'as many 200 as the table holds');
    assert.equal(s.get(503), FLOOD - MAX);
    assert.equal(delivered.length, MAX, 'the application saw only the admitted requests');
    const refused = [...got.byCallId.values()].flat().find((r) => r.status === 503)!;
    assert.equal(getHeader(refused, 'retry-after'), '5');
    assert.match(getHeader(refused, 'via') ?? '', new RegExp(`rport=${port}`));
    assert.equal(stack.stats.rejectedFull, FLOOD - MAX);
    // The admitted ones are Completed (timer J, 32 s) and still fill the table.
    assert.equal(stack.stats.server, MAX);
  });

  it('answers a retransmission of an admitted request with the same 200, without the application', async () => {
    const first = [...got.byCallId.entries()].find(([, l]) => l[0].status === 200)!;
    const n = Number(first[0].replace('flood-', ''));
    const before = got.count;
    sock.send(message(n, 'UDP', port), stack.ports.udp!, '127.0.0.1');
    await until(() => got.count > before, 'the retransmitted 200');
    const again = got.byCallId.get(first[0])!;
    assert.equal(again.length, 2);
    assert.equal(again[1].status, 200);
    assert.equal(getHeader(again[1], 'to'), getHeader(again[0], 'to'), 'same To tag');
    assert.equal(delivered.length, MAX);
  });

  it('still refuses new requests before timer J, then serves normally once it fired', async () => {
    clock.advance(31_000);
    const before = got.count;
    sock.send(message(1000, 'UDP', port), stack.ports.udp!, '127.0.0.1');
    await until(() => got.count > before, 'a response');
    assert.equal(got.byCallId.get('flood-1000')![0].status, 503);

    clock.advance(1_200); // past 64*T1 = 32 s (and the expiry batching slack)
    assert.equal(stack.stats.server, 0, 'Completed entries expired');
    const n0 = got.count;
    for (let i = 2000; i < 2000 + MAX; i++) sock.send(message(i, 'UDP', port), stack.ports.udp!, '127.0.0.1');
    await until(() => got.count >= n0 + MAX, 'responses after recovery');
    for (let i = 2000; i < 2000 + MAX; i++) assert.equal(got.byCallId.get(`flood-${i}`)![0].status, 200, `flood-${i}`);
    // A request refused earlier, sent again (a client honouring Retry-After), is served too:
    // the table is full again now, so make room first.
    clock.advance(33_000);
    const n1 = got.count;
    sock.send(message(1000, 'UDP', port, 'z9hG4bKretry1000'), stack.ports.udp!, '127.0.0.1');
    await until(() => got.count > n1, 'the retried request');
    assert.equal(got.byCallId.get('flood-1000')!.at(-1)!.status, 200);
  });
});

describe('overload: transaction table full over TCP', TEST_TIMEOUT, () => {
  const MAX = 5;
  let stack: SipStack;
  const pending: IncomingRequest[] = [];

  before(async () => {
    stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, udp: false, maxTransactions: MAX });
    // The application holds MESSAGEs until told: transactions stay live (over TCP timer J is 0,
    // so only unanswered requests occupy the table).
    stack.onRequest((r) => pending.push(r));
  });
  after(() => stack.close());

  it('answers 503 beyond the limit on the same connection, then 200 once the held requests are answered', async () => {
    const sock: TcpSocket = connect(stack.ports.tcp!, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const framer = new SipStreamFramer(defaultSipLimits);
    const got = new Collector();
    sock.on('data', (chunk: Buffer) => {
      for (const item of framer.push(chunk)) {
        if (item.type !== 'message') continue;
        const r = parseMessage(item.data);
        if (r.ok && r.message.kind === 'response') got.add(r.message);
      }
    });
    try {
      const local = sock.localPort!;
      for (let i = 0; i < MAX + 3; i++) sock.write(message(i, 'TCP', local));
      await until(() => got.count >= 3 && pending.length >= MAX, '3 refusals and 5 held requests');
      assert.equal(got.statuses().get(503), 3);
      assert.equal(stack.stats.rejectedFull, 3);
      assert.equal(stack.stats.server, MAX);

      for (const r of pending.splice(0)) r.respond(200);
      await until(() => got.count >= MAX + 3, 'the 200s');
      assert.equal(got.statuses().get(200), MAX);
      assert.equal(stack.stats.server, 0, 'over TCP a answered transaction ends at once');

      stack.onRequest((r) => r.respond(200));
      for (let i = 100; i < 100 + MAX + 3; i++) sock.write(message(i, 'TCP', local));
      await until(() => got.count >= 2 * (MAX + 3), 'responses after recovery');
      for (let i = 100; i < 100 + MAX + 3; i++) assert.equal(got.byCallId.get(`flood-${i}`)![0].status, 200);
    } finally {
      sock.destroy();
    }
  });
});

describe('overload: table and defaults', () => {
  it('refuses a new key when full and never evicts a live one', () => {
    const t = new TransactionTable<string>(2);
    assert.ok(t.add('a', '1'));
    assert.ok(t.add('b', '2'));
    assert.equal(t.add('c', '3'), false);
    assert.equal(t.get('a'), '1');
    assert.equal(t.get('b'), '2');
    assert.ok(t.replace('a', '1b'));
    assert.equal(t.replace('z', 'x'), false);
    t.delete('a', '1'); // stale value: kept
    assert.equal(t.get('a'), '1b');
    t.delete('a', '1b');
    assert.ok(t.add('c', '3'));
  });

  it('defaults to a table that holds 32 s of Completed transactions at 10k/s with room to spare', () => {
    assert.ok(DEFAULT_MAX_TRANSACTIONS >= 1.5 * 32 * 10_000, String(DEFAULT_MAX_TRANSACTIONS));
  });
});

describe('overload: UDP datagrams the kernel dropped are counted and logged', { timeout: 20_000, skip: process.platform === 'linux' ? false : 'reads /proc/net/udp' }, () => {
  it('matches the socket by its address as /proc/net/udp prints it', () => {
    const le = endianness() === 'LE';
    assert.equal(procAddress('127.0.0.1', false), le ? '0100007F' : '7F000001');
    assert.equal(procAddress('0.0.0.0', false), '00000000');
    assert.equal(procAddress('::', true), '0'.repeat(32));
    if (le) {
      assert.equal(procAddress('::1', true), '00000000000000000000000001000000');
      assert.equal(procAddress('::ffff:127.0.0.1', true), '0000000000000000FFFF00000100007F');
    }
  });

  it('reads the drop counter of the socket after a flood it could not read', async () => {
    const warnings: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const udp = new UdpTransport({ host: '127.0.0.1', port: 0, logger: log });
    let received = 0;
    udp.onMessage(() => received++);
    const port = await udp.start();
    const sender = createSocket('udp4');
    try {
      assert.equal(udp.kernelDrops, 0);
      await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
      // 40 MB in one go, all queued before this event loop turn ends: more than the 4 MiB
      // receive buffer (8 MiB as the kernel counts it) can hold, and nothing reads meanwhile.
      const datagram = Buffer.alloc(1000, 'x');
      let sent = 0;
      await new Promise<void>((resolve) => {
        for (let i = 0; i < 40_000; i++) sender.send(datagram, port, '127.0.0.1', () => ++sent === 40_000 && resolve());
      });
      await until(() => received > 0, 'some datagrams');
      await udp.checkDrops();
      assert.ok((udp.kernelDrops ?? 0) > 0, `kernel drops ${udp.kernelDrops}, received ${received}`);
      assert.ok(received + (udp.kernelDrops ?? 0) <= 40_000);
      assert.ok(warnings.some((w) => w.includes('the kernel dropped UDP datagrams') && w.includes(`"total":${udp.kernelDrops}`)), warnings.join('\n'));
    } finally {
      sender.close();
      await udp.close();
    }
  });
});
