import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import pino from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import { createSipStack, type SipStack } from '../../../src/transport/sip/stack.js';
import type { IncomingRequest } from '../../../src/transport/sip/transport.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import type { SipResponse } from '../../../src/transport/sip/message.js';
import { getHeader, getHeaders } from '../../../src/transport/sip/headers.js';

const logger = pino({ level: 'silent' });

function raw(method: string, opts: { branch?: string; extra?: string; uri?: string; body?: string; callId?: string; toTag?: string; cseq?: number } = {}): string {
  const body = opts.body ?? '';
  return (
    `${method} ${opts.uri ?? 'sip:parley@127.0.0.1'} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:9;branch=${opts.branch ?? 'z9hG4bK' + Math.random().toString(36).slice(2)};rport\r\n` +
    `From: <sip:alice@example.com>;tag=fa\r\n` +
    `To: <sip:parley@example.com>${opts.toTag ? ';tag=' + opts.toTag : ''}\r\n` +
    `Call-ID: ${opts.callId ?? 'c-' + Math.random()}\r\n` +
    `CSeq: ${opts.cseq ?? 1} ${method === 'ACK' || method === 'CANCEL' ? method : method}\r\n` +
    `Max-Forwards: 70\r\n` +
    `Contact: <sip:alice@127.0.0.1:9>\r\n` +
    (opts.extra ?? '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

class UdpPeer {
  readonly socket: Socket;
  readonly got: SipResponse[] = [];
  readonly rawGot: string[] = [];
  readonly requests: import('../../../src/transport/sip/message.js').SipRequest[] = [];
  private waiters: Array<() => void> = [];
  constructor() {
    this.socket = createSocket('udp4');
    this.socket.on('message', (data) => {
      this.rawGot.push(data.toString());
      const r = parseMessage(data);
      if (r.ok && r.message.kind === 'response') this.got.push(r.message);
      if (r.ok && r.message.kind === 'request') this.requests.push(r.message);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async bind(): Promise<number> {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', r));
    return this.socket.address().port;
  }
  send(text: string, port: number): void {
    this.socket.send(Buffer.from(text), port, '127.0.0.1');
  }
  async waitFor(pred: () => boolean, ms = 2000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timeout waiting for datagrams');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }
}

describe('embedded stack over real sockets', () => {
  let stack: SipStack;
  let peer: UdpPeer;
  let port: number;
  const seen: IncomingRequest[] = [];
  const clock = new SimulatedClock();

  before(async () => {
    stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, clock });
    port = stack.ports.udp!;
    peer = new UdpPeer();
    await peer.bind();
    stack.onRequest((r) => {
      seen.push(r);
      if (r.request.method === 'MESSAGE') r.respond(200);
      if (r.request.method === 'INFO') throw new Error('boom');
    });
  });
  after(async () => {
    await stack.close();
    peer.socket.close();
  });

  it('binds UDP and TCP on the same free port', () => {
    assert.equal(stack.ports.udp, stack.ports.tcp);
    assert.ok(port > 0);
  });

  it('answers OPTIONS with 200, Allow, Accept and Supported, sent back to the rport', async () => {
    peer.got.length = 0;
    peer.send(raw('OPTIONS'), port);
    await peer.waitFor(() => peer.got.length === 1);
    const res = peer.got[0];
    assert.equal(res.status, 200);
    assert.match(getHeaders(res, 'allow').join(','), /MESSAGE/);
    assert.ok(getHeader(res, 'accept'));
    assert.ok(getHeader(res, 'supported') !== undefined);
    assert.match(getHeader(res, 'via') ?? '', new RegExp(`received=127\\.0\\.0\\.1;rport=${peer.socket.address().port}|rport=${peer.socket.address().port};received=127\\.0\\.0\\.1`));
  });

  for (const [name, text, status, header] of [
    ['405 with Allow for an unknown method', raw('PUBLISH'), 405, 'allow'],
    ['483 for Max-Forwards 0', raw('MESSAGE').replace('Max-Forwards: 70', 'Max-Forwards: 0'), 483, undefined],
    ['416 for an unsupported Request-URI scheme', raw('MESSAGE', { uri: 'http://example.com/' }), 416, undefined],
    ['420 with Unsupported for a Require of an unknown extension', raw('MESSAGE', { extra: 'Require: 100rel, foo\r\n' }), 420, 'unsupported'],
    // RFC 5366 list INVITEs carry Require: recipient-list-invite; the rooms' dial-out serves them.
    ['420 naming only the unknown one beside recipient-list-invite', raw('MESSAGE', { extra: 'Require: recipient-list-invite, 100rel, foo\r\n' }), 420, 'unsupported'],
    ['500 when the application handler throws', raw('INFO'), 500, undefined],
  ] as const) {
    it(`answers ${name}`, async () => {
      peer.got.length = 0;
      peer.send(text, port);
      await peer.waitFor(() => peer.got.length === 1);
      assert.equal(peer.got[0].status, status);
      if (header) assert.ok(getHeader(peer.got[0], header), `has ${header}`);
      if (status === 420) assert.deepEqual(getHeaders(peer.got[0], 'unsupported'), ['100rel', 'foo']);
    });
  }

  it('answers 400 with the codec reason to a malformed request, copying its Via, Call-ID and CSeq', async () => {
    peer.rawGot.length = 0;
    peer.send(raw('MESSAGE', { callId: 'bad-cseq' }).replace('CSeq: 1 MESSAGE', 'CSeq: x MESSAGE'), port);
    await peer.waitFor(() => peer.rawGot.length === 1);
    assert.match(peer.rawGot[0], /^SIP\/2\.0 400 Bad Request - malformed CSeq\r\n/);
    assert.match(peer.rawGot[0], /\r\nCall-ID: bad-cseq\r\n/);
    assert.match(peer.rawGot[0], /\r\nVia: SIP\/2\.0\/UDP 127\.0\.0\.1:9;branch=z9hG4bK\w+;rport=\d+;received=127\.0\.0\.1\r\n/);
  });

  it('absorbs a retransmitted MESSAGE: one delivery, the 200 resent', async () => {
    peer.got.length = 0;
    const before = seen.length;
    const text = raw('MESSAGE', { branch: 'z9hG4bKretrans1', body: 'hi', extra: 'Content-Type: text/plain\r\n' });
    peer.send(text, port);
    await peer.waitFor(() => peer.got.length === 1);
    peer.send(text, port);
    await peer.waitFor(() => peer.got.length === 2);
    assert.equal(seen.length - before, 1);
    assert.equal(peer.got[1].status, 200);
    assert.equal(seen[seen.length - 1].request.body.toString(), 'hi');
  });

  it('answers CANCEL with 200 and the pending INVITE with 487, telling the application', async () => {
    peer.got.length = 0;
    const cancelled: IncomingRequest[] = [];
    stack.onCancel((r) => cancelled.push(r));
    const branch = 'z9hG4bKcancel1';
    peer.send(raw('INVITE', { branch, callId: 'cx' }), port);
    await peer.waitFor(() => peer.got.some((r) => r.status === 100));
    peer.send(raw('CANCEL', { branch, callId: 'cx' }), port);
    await peer.waitFor(() => peer.got.some((r) => r.status === 487));
    const statuses = peer.got.map((r) => `${r.status} ${getHeader(r, 'cseq')}`);
    assert.ok(statuses.includes('200 1 CANCEL'), statuses.join());
    assert.ok(statuses.includes('487 1 INVITE'), statuses.join());
    assert.equal(cancelled.length, 1);
    assert.equal(cancelled[0].cancelled, true);
    const r487 = peer.got.find((r) => r.status === 487)!;
    assert.match(getHeader(r487, 'to') ?? '', /;tag=/);
  });

  it('answers 481 to a CANCEL that matches no INVITE', async () => {
    peer.got.length = 0;
    peer.send(raw('CANCEL', { branch: 'z9hG4bKnothing' }), port);
    await peer.waitFor(() => peer.got.length === 1);
    assert.equal(peer.got[0].status, 481);
  });

  it('retransmits a 2xx to INVITE until the ACK, then delivers the ACK with its dialog id', async () => {
    peer.got.length = 0;
    stack.onRequest((r) => {
      seen.push(r);
      if (r.request.method === 'INVITE') r.respond(200, undefined, { body: 'v=0\r\n', headers: [{ name: 'content-type', value: 'application/sdp' }] });
    });
    peer.send(raw('INVITE', { callId: 'inv-2xx' }), port);
    await peer.waitFor(() => peer.got.some((r) => r.status === 200));
    clock.advance(500);
    clock.advance(1000);
    await peer.waitFor(() => peer.got.filter((r) => r.status === 200).length === 3);
    const ok = peer.got.find((r) => r.status === 200)!;
    assert.match(getHeader(ok, 'contact') ?? '', /^<sip:127\.0\.0\.1:\d+>$/);
    const toTag = /tag=([^;]+)/.exec(getHeader(ok, 'to')!)![1];
    peer.send(raw('ACK', { callId: 'inv-2xx', toTag }), port);
    await peer.waitFor(() => seen.some((r) => r.request.method === 'ACK'));
    const ack = seen.find((r) => r.request.method === 'ACK')!;
    assert.deepEqual(ack.dialogId, { callId: 'inv-2xx', localTag: toTag, remoteTag: 'fa' });
    assert.equal(stack.stats.ackWaits, 0);
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(peer.got.filter((r) => r.status === 200).length, 3);
  });

  it('reports an INVITE 2xx that never got its ACK after 64*T1', async () => {
    const timeouts: string[] = [];
    stack.onAckTimeout((e) => timeouts.push(e.dialogId.callId));
    peer.send(raw('INVITE', { callId: 'inv-noack' }), port);
    await peer.waitFor(() => peer.got.some((r) => r.status === 200 && getHeader(r, 'call-id') === 'inv-noack'));
    clock.advance(32_000);
    assert.deepEqual(timeouts, ['inv-noack']);
  });

  it('sends a request, resolves with the final response, and synthesizes 408 on timeout', async () => {
    const peerPort = peer.socket.address().port;
    peer.requests.length = 0;
    const p = stack.sendRequest({ method: 'MESSAGE', uri: `sip:bob@127.0.0.1:${peerPort}`, headers: [{ name: 'content-type', value: 'text/plain' }], body: 'yo' });
    await peer.waitFor(() => peer.requests.length === 1);
    const req = peer.requests[0];
    assert.match(getHeader(req, 'via') ?? '', /^SIP\/2\.0\/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK[\w-]{16};rport$/);
    const reply =
      `SIP/2.0 202 Accepted\r\nVia: ${getHeader(req, 'via')}\r\nFrom: ${getHeader(req, 'from')}\r\nTo: ${getHeader(req, 'to')};tag=x\r\n` +
      `Call-ID: ${getHeader(req, 'call-id')}\r\nCSeq: ${getHeader(req, 'cseq')}\r\nContent-Length: 0\r\n\r\n`;
    peer.send(reply, port);
    assert.equal((await p).status, 202);
    const q = stack.sendRequest({ method: 'OPTIONS', uri: `sip:bob@127.0.0.1:${peerPort}` });
    await peer.waitFor(() => peer.requests.length === 2);
    clock.advance(32_000);
    assert.equal((await q).status, 408);
  });
});

describe('embedded stack over TCP', () => {
  let stack: SipStack;
  before(async () => {
    stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, udp: false, limits: { maxMessageBytes: 4096, maxHeaders: 50, maxHeaderLineBytes: 1024, maxBodyBytes: 1000 } });
    stack.onRequest((r) => r.respond(200));
  });
  after(() => stack.close());

  async function tcp(): Promise<{ sock: TcpSocket; data: () => string; closed: () => boolean }> {
    const sock = connect(stack.ports.tcp!, '127.0.0.1');
    let buf = '';
    let closed = false;
    sock.on('data', (d) => (buf += d.toString()));
    sock.on('close', () => (closed = true));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    return { sock, data: () => buf, closed: () => closed };
  }
  async function until(p: () => boolean): Promise<void> {
    const end = Date.now() + 2000;
    while (!p()) {
      if (Date.now() > end) throw new Error('timeout');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('answers a double-CRLF keep-alive with one CRLF', async () => {
    const c = await tcp();
    c.sock.write('\r\n\r\n');
    await until(() => c.data() === '\r\n');
    c.sock.destroy();
  });

  it('answers on the connection the request came on, then 413 and close for an over-size body', async () => {
    const c = await tcp();
    c.sock.write(raw('MESSAGE').replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    await until(() => c.data().includes('SIP/2.0 200'));
    c.sock.write(raw('MESSAGE', { body: 'x'.repeat(2000) }).replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    await until(() => c.data().includes('SIP/2.0 413'));
    await until(() => c.closed());
    assert.match(c.data(), /SIP\/2\.0 413[^\r]*\r\n(.|\r\n)*CSeq: 1 MESSAGE/);
  });
});

describe('embedded stack over TLS', () => {
  let stack: SipStack;
  let client: SipStack;
  let cert = '';
  before(async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const key = readFileSync(join(dir, 'key.pem'), 'utf8');
    rmSync(dir, { recursive: true, force: true });
    stack = await createSipStack({ host: '127.0.0.1', port: 0, logger, tls: { port: 0, cert, key } });
    stack.onRequest((r) => r.respond(200, undefined, { headers: [{ name: 'x-transport', value: r.source.transport }] }));
    client = await createSipStack({ host: '127.0.0.1', port: 0, logger, tls: { port: 0, cert, key, ca: cert } });
  });
  after(async () => {
    await stack.close();
    await client.close();
  });

  it('answers OPTIONS received over TLS on the same connection', async () => {
    const { connect: tlsConnect } = await import('node:tls');
    const sock = tlsConnect({ host: '127.0.0.1', port: stack.ports.tls!, ca: cert });
    let buf = '';
    sock.on('data', (d) => (buf += d.toString()));
    await new Promise<void>((r) => sock.once('secureConnect', () => r()));
    sock.write(raw('OPTIONS').replace('SIP/2.0/UDP', 'SIP/2.0/TLS'));
    for (let i = 0; i < 200 && !buf.includes('\r\n\r\n'); i++) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    assert.match(buf, /^SIP\/2\.0 200 OK\r\n/);
  });

  it('sends a request to a sips: URI over TLS and reuses the connection for the next one', async () => {
    const uri = `sips:bob@127.0.0.1:${stack.ports.tls}`;
    const a = await client.sendRequest({ method: 'MESSAGE', uri, body: 'one', headers: [{ name: 'content-type', value: 'text/plain' }] });
    assert.equal(a.status, 200);
    assert.equal(getHeader(a, 'x-transport'), 'tls');
    const b = await client.sendRequest({ method: 'MESSAGE', uri, body: 'two', headers: [{ name: 'content-type', value: 'text/plain' }] });
    assert.equal(b.status, 200);
    assert.equal(client.stats.tlsConnections, 1);
  });
});
