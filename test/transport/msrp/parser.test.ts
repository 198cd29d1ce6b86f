import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { MsrpParseError, MsrpParser } from '../../../src/transport/msrp/parser.js';
import type { MsrpMessage, MsrpRequest } from '../../../src/transport/msrp/message.js';
import { buildRequest, pathOf, serializeMsrp } from '../../../src/transport/msrp/serializer.js';

const FIX = 'test/fixtures/msrp';
const fixture = (n: string) => readFileSync(`${FIX}/${n}`);

function parseAll(bytes: Buffer, parser = new MsrpParser()): Array<MsrpMessage | MsrpParseError> {
  return parser.push(bytes);
}

function one(bytes: Buffer): MsrpMessage {
  const out = parseAll(bytes);
  assert.equal(out.length, 1);
  assert.ok(!(out[0] instanceof MsrpParseError), String(out[0]));
  return out[0] as MsrpMessage;
}

test('parses every RFC 4975 fixture and serializes it back byte for byte', () => {
  for (const name of readdirSync(FIX)) {
    const bytes = fixture(name);
    const msg = one(bytes);
    assert.deepEqual(serializeMsrp(msg), bytes, name);
  }
});

test('reads the typed headers of the RFC 4975 section 4 SEND', () => {
  const m = one(fixture('rfc4975-s4-send.msrp')) as MsrpRequest;
  assert.equal(m.kind, 'request');
  assert.equal(m.method, 'SEND');
  assert.equal(m.txId, 'a786hjs2');
  assert.equal(m.toPath[0].sessionId, 'kjhd37s2s20w2a');
  assert.equal(m.toPath[0].port, 12763);
  assert.equal(m.fromPath[0].host, 'atlanta.example.com');
  assert.equal(m.messageId, '87652491');
  assert.deepEqual(m.byteRange, { start: 1, end: 25, total: 25 });
  assert.equal(m.contentType, 'text/plain');
  assert.equal(m.body?.toString(), 'Hey Bob, are you there?');
  assert.equal(m.flag, '$');
});

test('reads a response and a REPORT Status header', () => {
  const r = one(fixture('rfc4975-s7.2-response.msrp'));
  assert.equal(r.kind, 'response');
  assert.equal(r.kind === 'response' && r.status, 200);
  assert.equal(r.kind === 'response' && r.comment, 'OK');
  assert.equal(r.body, undefined);
  const rep = one(fixture('rfc4975-s7.1.2-report.msrp')) as MsrpRequest;
  assert.equal(rep.method, 'REPORT');
  assert.deepEqual(rep.status, { namespace: 0, code: 200, comment: 'OK' });
});

test('a body ends only at its own end-line, not at another transaction id or a longer one', () => {
  const m = one(fixture('chunk-unknown-total.msrp')) as MsrpRequest;
  assert.equal(m.flag, '+');
  assert.deepEqual(m.byteRange, { start: 1, end: undefined, total: undefined });
  assert.equal(m.failureReport, 'partial');
  assert.equal(
    m.body?.toString(),
    'first part with a fake end-line\r\n-------d93kswow$\r\n-------7gxw2a3bX$\r\nand more',
  );
});

test('reads RFC 7701 NICKNAME with a quoted Use-Nickname', () => {
  const m = one(fixture('nickname.msrp')) as MsrpRequest;
  assert.equal(m.method, 'NICKNAME');
  assert.equal(m.useNickname, 'Alice "the" Great');
});

const TO = pathOf('msrp://b.example.com:2855/s3ss10n;tcp');
const FROM = pathOf('msrp://a.example.com:2855/0th3r;tcp');

const arbMessage = fc
  .record({
    txId: fc.stringMatching(/^[a-z0-9]{4,12}$/),
    body: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
    flag: fc.constantFrom('$' as const, '+' as const, '#' as const),
    method: fc.constantFrom('SEND', 'REPORT', 'FOO'),
  })
  .map(({ txId, body, flag, method }) =>
    buildRequest({
      txId,
      method,
      toPath: TO,
      fromPath: FROM,
      messageId: 'm1',
      byteRange: { start: 1, end: body?.length ?? 0, total: body?.length ?? 0 },
      contentType: body !== undefined ? 'application/octet-stream' : undefined,
      body: body !== undefined ? Buffer.from(body) : undefined,
      flag,
    }),
  );

test('any split of a valid stream into segments parses to the same messages', () => {
  fc.assert(
    fc.property(fc.array(arbMessage, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (msgs, cuts) => {
      const stream = Buffer.concat(msgs.map(serializeMsrp));
      const whole = parseAll(stream);
      const p = new MsrpParser();
      const pieces: Array<MsrpMessage | MsrpParseError> = [];
      const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
      let prev = 0;
      for (const c of [...points, stream.length]) {
        pieces.push(...p.push(stream.subarray(prev, c)));
        prev = c;
      }
      assert.equal(whole.length, msgs.length);
      assert.deepEqual(pieces.map((m) => serializeMsrp(m as MsrpMessage)), msgs.map(serializeMsrp));
      assert.deepEqual(whole.map((m) => serializeMsrp(m as MsrpMessage)), msgs.map(serializeMsrp));
    }),
    { numRuns: 300 },
  );
});

test('cutting a fixture at every byte gives the same message', () => {
  const bytes = fixture('chunk-unknown-total.msrp');
  for (let i = 0; i <= bytes.length; i++) {
    const p = new MsrpParser();
    const out = [...p.push(bytes.subarray(0, i)), ...p.push(bytes.subarray(i))];
    assert.equal(out.length, 1, `cut at ${i}`);
    assert.deepEqual(serializeMsrp(out[0] as MsrpMessage), bytes);
  }
});

test('random input never throws and keeps the buffer bounded', () => {
  const limits = { maxHeaderBytes: 512, maxChunkBodyBytes: 1024 };
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 30 }), (chunks) => {
      const p = new MsrpParser(limits);
      for (const c of chunks) {
        p.push(Buffer.from(c));
        assert.ok(p.bufferedBytes <= 512 + 1024 + 400 + 64);
      }
    }),
    { numRuns: 300 },
  );
});

test('mutated valid streams never throw and keep the buffer bounded', () => {
  const base = Buffer.concat([fixture('rfc4975-s4-send.msrp'), fixture('chunk-unknown-total.msrp'), fixture('nickname.msrp')]);
  const limits = { maxHeaderBytes: 512, maxChunkBodyBytes: 1024 };
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.nat(base.length - 1), byte: fc.integer({ min: 0, max: 255 }), del: fc.boolean() }), {
        maxLength: 8,
      }),
      fc.nat(base.length),
      (muts, cut) => {
        let b = Buffer.from(base);
        for (const m of muts) {
          if (m.del) b = Buffer.concat([b.subarray(0, m.at), b.subarray(m.at + 1)]);
          else b[m.at % b.length] = m.byte;
        }
        const p = new MsrpParser(limits);
        const out = [...p.push(b.subarray(0, cut)), ...p.push(b.subarray(cut))];
        for (const o of out) {
          if (o instanceof MsrpParseError) assert.ok(o.status === 400 || o.status === 413);
        }
        assert.ok(p.bufferedBytes <= 512 + 1024 + base.length);
      },
    ),
    { numRuns: 500 },
  );
});

test('a chunk over maxChunkBodyBytes yields 413 for that transaction and the parser resyncs', () => {
  const big = buildRequest({
    txId: 'big1',
    method: 'SEND',
    toPath: TO,
    fromPath: FROM,
    messageId: 'x',
    contentType: 'text/plain',
    body: Buffer.alloc(5000, 0x61),
  });
  const small = buildRequest({ txId: 'sm1', method: 'SEND', toPath: TO, fromPath: FROM, messageId: 'y' });
  const p = new MsrpParser({ maxChunkBodyBytes: 1000 });
  const stream = Buffer.concat([serializeMsrp(big), serializeMsrp(small)]);
  const out: Array<MsrpMessage | MsrpParseError> = [];
  for (let i = 0; i < stream.length; i += 700) {
    out.push(...p.push(stream.subarray(i, i + 700)));
    assert.ok(p.bufferedBytes <= 1000 + 700);
  }
  assert.equal(out.length, 2);
  const err = out[0] as MsrpParseError;
  assert.ok(err instanceof MsrpParseError);
  assert.equal(err.status, 413);
  assert.equal(err.txId, 'big1');
  assert.equal(err.fatal, false);
  assert.equal(err.head?.headers.find((h) => h.name === 'From-Path')?.value, FROM[0].raw);
  assert.equal((out[1] as MsrpRequest).txId, 'sm1');
});

test('a header section over maxHeaderBytes yields 400 and the parser resyncs on the end-line', () => {
  const req = buildRequest({
    txId: 'hdr1',
    method: 'SEND',
    toPath: TO,
    fromPath: FROM,
    extraHeaders: [{ name: 'X-Pad', value: 'p'.repeat(2000) }],
  });
  const ok = buildRequest({ txId: 'ok12', method: 'SEND', toPath: TO, fromPath: FROM });
  const p = new MsrpParser({ maxHeaderBytes: 1024 });
  const out = p.push(Buffer.concat([serializeMsrp(req), serializeMsrp(ok)]));
  assert.equal(out.length, 2);
  assert.equal((out[0] as MsrpParseError).code, 'MSRP_HEADERS_TOO_LARGE');
  assert.equal((out[0] as MsrpParseError).txId, 'hdr1');
  assert.equal((out[1] as MsrpRequest).txId, 'ok12');
});

test('more than maxHeaders header fields yields MSRP_TOO_MANY_HEADERS', () => {
  const extra = Array.from({ length: 10 }, (_, i) => ({ name: `X-H${i}`, value: 'v' }));
  const req = buildRequest({ txId: 'many', method: 'SEND', toPath: TO, fromPath: FROM, extraHeaders: extra });
  const out = new MsrpParser({ maxHeaders: 5 }).push(serializeMsrp(req));
  assert.equal(out.length, 1);
  assert.equal((out[0] as MsrpParseError).code, 'MSRP_TOO_MANY_HEADERS');
});

test('a missing From-Path is a 400 error with the transaction id', () => {
  const bytes = Buffer.from('MSRP abcd SEND\r\nTo-Path: msrp://h:1/s;tcp\r\n-------abcd$\r\n');
  const out = new MsrpParser().push(bytes);
  assert.equal((out[0] as MsrpParseError).status, 400);
  assert.equal((out[0] as MsrpParseError).txId, 'abcd');
});

test('a stream that does not start with MSRP is fatal', () => {
  const p = new MsrpParser();
  const out = p.push(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  assert.equal(out.length, 1);
  assert.equal((out[0] as MsrpParseError).fatal, true);
  assert.ok(p.dead);
  assert.deepEqual(p.push(fixture('rfc4975-s4-send.msrp')), []);
});

test('an endless start line is fatal once it passes maxHeaderBytes', () => {
  const p = new MsrpParser({ maxHeaderBytes: 100 });
  assert.deepEqual(p.push(Buffer.from('MSRP ' + 'a'.repeat(80))), []);
  const out = p.push(Buffer.from('a'.repeat(80)));
  assert.equal((out[0] as MsrpParseError).code, 'MSRP_START_LINE_TOO_LONG');
  assert.equal(p.bufferedBytes, 0);
});
