/**
 * MSRP throughput: parse cost, small messages parsed and answered, large transfers on
 * loopback in 2 KB and 64 KB chunks. Run: `npx tsx bench/msrp-throughput.ts`.
 */
import { connect } from 'node:net';
import { once } from 'node:events';
import { pino } from 'pino';
import { MsrpEndpoint } from '../src/transport/msrp/endpoint.js';
import { MsrpParser } from '../src/transport/msrp/parser.js';
import type { MsrpRequest } from '../src/transport/msrp/message.js';
import { buildRequest, buildResponse, pathOf, serializeMsrp } from '../src/transport/msrp/serializer.js';

const logger = pino({ level: 'silent' });
const TO = pathOf('msrp://127.0.0.1:2855/s3ss10nabcdefghij;tcp');
const FROM = pathOf('msrp://127.0.0.1:2856/0th3rabcdefghijk;tcp');

function smallSend(i: number): Buffer {
  return serializeMsrp(
    buildRequest({ txId: `t${i}`, method: 'SEND', toPath: TO, fromPath: FROM, messageId: `m${i}`, byteRange: { start: 1, end: 11, total: 11 }, contentType: 'text/plain', body: Buffer.from('hello world') }),
  );
}

function bench(name: string, n: number, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  const ns = Number(process.hrtime.bigint() - t0);
  return ns / n;
}

// 1. Parse (and parse + build and serialize the 200) of small SENDs, in 64 KB segments.
{
  const N = 200_000;
  const stream = Buffer.concat(Array.from({ length: N }, (_, i) => smallSend(i)));
  const seg = 64 * 1024;
  const parseNs = bench('parse', N, () => {
    const p = new MsrpParser();
    for (let o = 0; o < stream.length; o += seg) p.push(stream.subarray(o, o + seg));
  });
  const answerNs = bench('parse+answer', N, () => {
    const p = new MsrpParser();
    for (let o = 0; o < stream.length; o += seg) {
      for (const m of p.push(stream.subarray(o, o + seg))) serializeMsrp(buildResponse(m as MsrpRequest, 200));
    }
  });
  console.log(`small SEND parse: ${parseNs.toFixed(0)} ns/msg (${(1e9 / parseNs).toFixed(0)} msg/s)`);
  console.log(`small SEND parse + 200 built and serialized: ${answerNs.toFixed(0)} ns/msg (${(1e9 / answerNs).toFixed(0)} msg/s)`);
}

// 2. Parse cost per chunk for 2 KB and 64 KB chunks (stream cut in 64 KB TCP-like segments).
for (const size of [2048, 65536]) {
  const N = Math.floor((64 * 1024 * 1024) / size);
  const body = Buffer.alloc(size, 0x61);
  const stream = Buffer.concat(
    Array.from({ length: Math.min(N, 4096) }, (_, i) =>
      serializeMsrp(buildRequest({ txId: `c${i}`, method: 'SEND', toPath: TO, fromPath: FROM, messageId: 'big', byteRange: { start: i * size + 1, end: (i + 1) * size, total: N * size }, contentType: 'application/octet-stream', body, flag: '+' })),
    ),
  );
  const reps = Math.ceil(N / 4096);
  const ns = bench('chunks', reps * Math.min(N, 4096), () => {
    for (let r = 0; r < reps; r++) {
      const p = new MsrpParser();
      for (let o = 0; o < stream.length; o += 65536) p.push(stream.subarray(o, o + 65536));
    }
  });
  console.log(`parse cost per ${size / 1024} KB chunk: ${ns.toFixed(0)} ns (${((size / ns) * 1e3).toFixed(0)} MB/s of body)`);
}

// 3. Small messages parsed and answered by an endpoint on one TCP connection (pipelined client).
{
  const ep = new MsrpEndpoint({ listen: { port: 0 }, logger });
  const { port } = await ep.start();
  const s = ep.createSession({ setup: 'passive' });
  const peer = `msrp://127.0.0.1:9/p33rpathabcdefgh;tcp`;
  s.setRemote({ path: [peer] });
  s.on('message', (m) => m.accept());
  const to = pathOf(s.localUri);
  const from = pathOf(peer);
  const N = 100_000;
  const reqs = Buffer.concat(
    Array.from({ length: N }, (_, i) =>
      serializeMsrp(buildRequest({ txId: `t${i}`, method: 'SEND', toPath: to, fromPath: from, messageId: `m${i}`, contentType: 'text/plain', body: Buffer.from('hello world') })),
    ),
  );
  const sock = connect({ port, host: '127.0.0.1' });
  await once(sock, 'connect');
  const p = new MsrpParser();
  let answered = 0;
  const t0 = process.hrtime.bigint();
  const done = new Promise<void>((r) =>
    sock.on('data', (d: Buffer) => {
      answered += p.push(d).length;
      if (answered >= N) r();
    }),
  );
  for (let o = 0; o < reqs.length; o += 65536) sock.write(reqs.subarray(o, o + 65536));
  await done;
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`endpoint over TCP: ${N} small SENDs answered 200 in ${sec.toFixed(2)} s = ${(N / sec).toFixed(0)} msg/s (client and server in one process)`);
  sock.destroy();
  await ep.close();
}

// 4. Large transfer between two endpoints on loopback.
for (const chunkSize of [2048, 65536]) {
  const limits = { maxMessageBytes: 64 * 1024 * 1024, maxPendingTransactions: 1 << 20 };
  const a = new MsrpEndpoint({ listen: { port: 0 }, logger, limits });
  const b = new MsrpEndpoint({ listen: { port: 0 }, logger, limits });
  await a.start();
  await b.start();
  const sa = a.createSession({ setup: 'passive' });
  const sb = b.createSession({ setup: 'active' });
  sa.setRemote({ path: [sb.localUri] });
  sb.setRemote({ path: [sa.localUri] });
  await sb.connect();
  sa.on('message', (m) => m.accept());
  const size = 32 * 1024 * 1024;
  const body = Buffer.alloc(size, 0x42);
  const t0 = process.hrtime.bigint();
  const r = await sb.send(body, 'application/octet-stream', { chunkSize });
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`large transfer, ${chunkSize / 1024} KB chunks: 32 MB in ${sec.toFixed(2)} s = ${(size / 1048576 / sec).toFixed(0)} MB/s (status ${r.status})`);
  await a.close();
  await b.close();
}
