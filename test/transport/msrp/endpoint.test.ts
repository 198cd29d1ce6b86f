import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import { SimulatedClock } from '../../../src/clock.js';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import type { MsrpResponse } from '../../../src/transport/msrp/message.js';
import type { IncomingMessage } from '../../../src/transport/msrp/session.js';
import { buildRequest, pathOf, serializeMsrp } from '../../../src/transport/msrp/serializer.js';
import { memoryLogger, nextEvent, rawClient, until } from './helpers.js';

async function pair(opts: { clock?: SimulatedClock } = {}) {
  const la = memoryLogger();
  const lb = memoryLogger();
  const a = new MsrpEndpoint({ listen: { port: 0 }, logger: la.logger, clock: opts.clock });
  const b = new MsrpEndpoint({ listen: { port: 0 }, logger: lb.logger, clock: opts.clock });
  await a.start();
  await b.start();
  const sa = a.createSession({ setup: 'passive', acceptTypes: ['text/plain', 'application/octet-stream'] });
  const sb = b.createSession({ setup: 'active' });
  sa.setRemote({ path: [sb.localUri] });
  sb.setRemote({ path: [sa.localUri] });
  return { a, b, sa, sb, logA: la.records, logB: lb.records };
}

test('an active session binds to a passive one with a bodiless SEND; the keep-alive is not delivered', async () => {
  const { a, b, sa, sb } = await pair();
  let delivered = 0;
  sa.on('message', () => delivered++);
  const connected = nextEvent(sa, 'connected');
  assert.deepEqual(await sb.connect(), { status: 200, comment: 'OK' });
  await connected;
  assert.ok(sa.connection !== undefined);
  assert.equal(delivered, 0);
  await a.close();
  await b.close();
});

test('a 1 MB message in 2 KB chunks interleaves with small messages, arrives intact, with success reports', async () => {
  const { a, b, sa, sb } = await pair();
  await sb.connect();
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  const received: IncomingMessage[] = [];
  sa.on('message', (m) => {
    received.push(m);
    m.accept();
  });
  const reports: string[] = [];
  sb.on('report', (r) => reports.push(`${r.messageId}:${r.status}:${r.byteRange?.start}-${r.byteRange?.end}/${r.byteRange?.total}`));
  const bigSend = sb.send(big, 'application/octet-stream', { messageId: 'big', successReport: 'yes', chunkSize: 2048 });
  const smalls = [];
  for (let i = 0; i < 5; i++) smalls.push(sb.send(Buffer.from(`small ${i}`), 'text/plain', { messageId: `s${i}`, successReport: 'yes' }));
  const results = await Promise.all([bigSend, ...smalls]);
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
  await until(() => reports.length === 6);
  // Small messages completed before the large one: they were not blocked behind it.
  assert.deepEqual(received.map((m) => m.messageId), ['s0', 's1', 's2', 's3', 's4', 'big']);
  const got = received[5].body;
  assert.equal(got.length, big.length);
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(big).digest('hex'));
  assert.ok(reports.includes(`big:200:1-${big.length}/${big.length}`));
  assert.ok(reports.includes('s0:200:1-7/7'));
  await a.close();
  await b.close();
});

test('the 200 to the last chunk waits for the application (respond is explicit)', async () => {
  const { a, b, sa, sb } = await pair();
  await sb.connect();
  let held: IncomingMessage | undefined;
  sa.on('message', (m) => (held = m));
  let settled = false;
  const p = sb.send(Buffer.from('commit me'), 'text/plain').then((r) => ((settled = true), r));
  await until(() => held !== undefined);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(settled, false);
  held!.respond(415);
  assert.equal((await p).status, 415);
  await a.close();
  await b.close();
});

test('an unaccepted content type is answered 415 without reaching the application', async () => {
  const { a, b, sa, sb } = await pair();
  await sb.connect();
  let delivered = 0;
  sa.on('message', () => delivered++);
  assert.equal((await sb.send(Buffer.from('<x/>'), 'image/svg+xml')).status, 415);
  assert.equal(delivered, 0);
  await a.close();
  await b.close();
});

test('NICKNAME reaches the application, which answers 200 or 425', async () => {
  const { a, b, sa, sb } = await pair();
  await sb.connect();
  sa.on('nickname', (n) => (n.nickname === 'taken' ? n.respond(425) : n.accept()));
  assert.equal((await sb.sendNickname('alice')).status, 200);
  assert.equal((await sb.sendNickname('taken')).status, 425);
  await a.close();
  await b.close();
});

function sendBytes(to: string, from: string, txId: string): Buffer {
  return serializeMsrp(
    buildRequest({ txId, method: 'SEND', toPath: pathOf(to), fromPath: pathOf(from), messageId: 'm', contentType: 'text/plain', body: Buffer.from('hi') }),
  );
}

test('hijack attempts get 506, 403 and 481, are logged, and never reach the application', async () => {
  const { a, b, sa, sb, logA } = await pair();
  const port = Number(/:(\d+)\//.exec(sa.localUri)![1]);
  let delivered = 0;
  sa.on('message', () => delivered++);

  // A passive session not yet connected, with a wrong From-Path: 403.
  const c1 = await rawClient(port);
  c1.socket.write(sendBytes(sa.localUri, 'msrp://127.0.0.1:9/evil;tcp', 'tx403'));
  assert.equal(((await c1.next()) as MsrpResponse).status, 403);

  // The legitimate peer binds the session.
  await sb.connect();

  // The valid session URI and the right From-Path, but from another connection: 506.
  const c2 = await rawClient(port);
  c2.socket.write(sendBytes(sa.localUri, sb.localUri, 'tx506'));
  const r506 = (await c2.next()) as MsrpResponse;
  assert.equal(r506.status, 506);
  assert.equal(r506.txId, 'tx506');

  // An unknown session: 481.
  const unknown = sa.localUri.replace(sa.id, 'AAAAAAAAAAAAAAAAAAAA');
  c2.socket.write(sendBytes(unknown, sb.localUri, 'tx481'));
  assert.equal(((await c2.next()) as MsrpResponse).status, 481);

  assert.equal(delivered, 0);
  const hijacks = logA.filter((r) => r.event === 'msrp.hijack');
  assert.deepEqual(hijacks.map((r) => r.status).sort(), [403, 506]);
  assert.ok(hijacks.every((r) => r.level === 40 && r.session === sa.id));
  assert.ok(logA.some((r) => r.event === 'msrp.refused' && r.status === 481));
  // The legitimate session still works.
  sa.on('message', (m) => m.accept());
  assert.equal((await sb.send(Buffer.from('still here'), 'text/plain')).status, 200);
  c1.socket.destroy();
  c2.socket.destroy();
  await a.close();
  await b.close();
});

test('a response that never comes becomes a local 408 after the response timeout (simulated clock)', async () => {
  const clock = new SimulatedClock();
  const { logger } = memoryLogger();
  const silent = createServer();
  const got: Buffer[] = [];
  const sockets: Socket[] = [];
  silent.on('connection', (s) => {
    sockets.push(s);
    s.on('data', (d) => got.push(d));
  });
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const port = (silent.address() as { port: number }).port;
  const ep = new MsrpEndpoint({ listen: { port: 0 }, logger, clock });
  await ep.start();
  const s = ep.createSession({ setup: 'active' });
  s.setRemote({ path: [`msrp://127.0.0.1:${port}/peer;tcp`] });
  const p = s.connect();
  await until(() => got.length > 0);
  clock.advance(29_999);
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  const ended = nextEvent<{ reason: string }>(s, 'ended');
  clock.advance(1);
  assert.deepEqual(await p, { status: 408, comment: 'Request Timeout', reason: 'timeout' });
  assert.equal((await ended).reason, 'bind-refused');
  for (const x of sockets) x.destroy();
  silent.close();
  await ep.close();
});

test('an idle session ends with reason idle; a lost connection ends it with reason connection-lost', async () => {
  const clock = new SimulatedClock();
  const { a, b, sa, sb } = await pair({ clock });
  await sb.connect();
  const idle = a.createSession({ setup: 'passive', idleTimeoutMs: 60_000 });
  const idleEnded = nextEvent<{ reason: string }>(idle, 'ended');
  clock.advance(60_000);
  assert.equal((await idleEnded).reason, 'idle');

  const lost = nextEvent<{ reason: string }>(sa, 'ended');
  sb.connection!['socket'].destroy();
  assert.equal((await lost).reason, 'connection-lost');
  assert.equal(a.getSession(sa.id), undefined);
  await a.close();
  await b.close();
});
