import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MsrpEndpoint } from '../../../src/transport/msrp/endpoint.js';
import { buildReport, readReport, shouldRespond } from '../../../src/transport/msrp/reports.js';
import { pathOf } from '../../../src/transport/msrp/serializer.js';
import type { ReportInfo } from '../../../src/transport/msrp/reports.js';
import { memoryLogger, until } from './helpers.js';

test('Failure-Report no suppresses every response, partial only the 200s (RFC 4975 section 7.1.2)', () => {
  assert.equal(shouldRespond(undefined, 200), true);
  assert.equal(shouldRespond('yes', 413), true);
  assert.equal(shouldRespond('partial', 200), false);
  assert.equal(shouldRespond('partial', 413), true);
  assert.equal(shouldRespond('no', 413), false);
});

test('a success REPORT carries Status 000 200 and the Byte-Range, and reads back', () => {
  const rep = buildReport({
    txId: 'r1',
    toPath: pathOf('msrp://a:1/x;tcp'),
    fromPath: pathOf('msrp://b:2/y;tcp'),
    messageId: 'm1',
    byteRange: { start: 1, end: 10, total: 10 },
    status: 200,
  });
  assert.equal(rep.headers.find((h) => h.name === 'Status')?.value, '000 200 OK');
  assert.deepEqual(readReport(rep), { messageId: 'm1', status: 200, comment: 'OK', byteRange: { start: 1, end: 10, total: 10 } });
});

async function pair(limits?: { maxChunkBodyBytes?: number; maxMessageBytes?: number }) {
  const a = new MsrpEndpoint({ listen: { port: 0 }, logger: memoryLogger().logger, limits });
  const b = new MsrpEndpoint({ listen: { port: 0 }, logger: memoryLogger().logger });
  await a.start();
  await b.start();
  const sa = a.createSession({ setup: 'passive' });
  const sb = b.createSession({ setup: 'active' });
  sa.setRemote({ path: [sb.localUri] });
  sb.setRemote({ path: [sa.localUri] });
  await sb.connect();
  return { a, b, sa, sb, close: async () => (await a.close(), await b.close()) };
}

test('a message refused after earlier chunks were answered 200 also gets a failure REPORT', async () => {
  const { sa, sb, close } = await pair();
  sa.on('message', (m) => m.respond(500));
  const reports: ReportInfo[] = [];
  sb.on('report', (r) => reports.push(r));
  const r = await sb.send(Buffer.alloc(5000, 1), 'text/plain', { messageId: 'f1', chunkSize: 2048 });
  assert.equal(r.status, 500);
  await until(() => reports.length === 1);
  assert.equal(reports[0].messageId, 'f1');
  assert.equal(reports[0].status, 500);
  await close();
});

test('a chunk over the receiver limit is answered 413 and the sender stops', async () => {
  const { sa, sb, close } = await pair({ maxChunkBodyBytes: 1000 });
  let delivered = 0;
  sa.on('message', (m) => (delivered++, m.accept()));
  const r = await sb.send(Buffer.alloc(50_000, 1), 'text/plain', { chunkSize: 4000 });
  assert.equal(r.status, 413);
  assert.equal(delivered, 0);
  // The connection stays usable.
  assert.equal((await sb.send(Buffer.from('ok'), 'text/plain')).status, 200);
  await close();
});

test('a message over maxMessageBytes is answered 413 at the chunk that crosses it', async () => {
  const { sa, sb, close } = await pair({ maxMessageBytes: 10_000 });
  sa.on('message', (m) => m.accept());
  assert.equal((await sb.send(Buffer.alloc(30_000, 1), 'text/plain', { chunkSize: 2048 })).status, 413);
  await close();
});
