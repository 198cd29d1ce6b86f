import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SipStreamFramer, type FramedItem } from '../../../src/transport/sip/framing.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';

function msg(body: string, extra: string[] = []): Buffer {
  const b = Buffer.from(body, 'utf8');
  return Buffer.from([
    'MESSAGE sip:bob@example.com SIP/2.0', 'Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1', 'From: <sip:a@example.com>;tag=1',
    'To: <sip:bob@example.com>', 'Call-ID: c1', 'CSeq: 1 MESSAGE', ...extra, `Content-Length: ${b.length}`, '', body,
  ].join('\r\n'), 'utf8');
}

const messages = (items: FramedItem[]): string[] => items.flatMap((i) => (i.type === 'message' ? [i.data.toString('utf8')] : []));

test('frames one message per Content-Length, including UTF-8 bodies', () => {
  const f = new SipStreamFramer();
  const a = msg('héllo 👋');
  const b = msg('second');
  const items = f.push(Buffer.concat([a, b]));
  assert.deepEqual(messages(items), [a.toString(), b.toString()]);
  for (const i of items) if (i.type === 'message') assert.ok(parseMessage(i.data).ok);
  assert.equal(f.bufferedBytes, 0);
});

test('a message split at every byte comes out once, unchanged', () => {
  const a = msg('split me');
  for (let cut = 1; cut < a.length; cut++) {
    const f = new SipStreamFramer();
    const items = [...f.push(a.subarray(0, cut)), ...f.push(a.subarray(cut))];
    assert.deepEqual(messages(items), [a.toString()], `cut at ${cut}`);
  }
});

test('a message fed one byte at a time', () => {
  const f = new SipStreamFramer();
  const a = msg('x'.repeat(100));
  const out: FramedItem[] = [];
  for (const byte of a) out.push(...f.push(Buffer.from([byte])));
  assert.deepEqual(messages(out), [a.toString()]);
});

test('double CRLF between messages is a ping; a single CRLF is skipped', () => {
  const f = new SipStreamFramer();
  assert.deepEqual(f.push(Buffer.from('\r\n\r\n')), [{ type: 'ping' }]);
  assert.deepEqual(f.push(Buffer.from('\r\n')), []);
  assert.deepEqual(f.push(Buffer.from('\r\n')), [{ type: 'ping' }]);
  const a = msg('hi');
  const items = f.push(Buffer.concat([Buffer.from('\r\n'), a, Buffer.from('\r\n\r\n')]));
  assert.deepEqual(items.map((i) => i.type), ['message', 'ping']);
});

test('a missing Content-Length on a stream is an error and closes the framer', () => {
  const f = new SipStreamFramer();
  const items = f.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
  assert.equal(items.length, 1);
  assert.equal(items[0].type === 'error' && items[0].error.status, 400);
  assert.equal(items[0].type === 'error' && items[0].error.code, 'SIP_MISSING_CONTENT_LENGTH');
  assert.equal(items[0].type === 'error' && items[0].head?.toString(), 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n');
  assert.ok(f.closed);
  assert.deepEqual(f.push(msg('after')), []);
});

test('compact and folded Content-Length are honoured', () => {
  const f = new SipStreamFramer();
  const data = Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl:\r\n  3\r\n\r\nabcOPTIONS');
  const items = f.push(data);
  assert.equal(messages(items).length, 1);
  assert.ok(messages(items)[0].endsWith('\r\n\r\nabc'));
});

test('a declared Content-Length over maxBodyBytes is refused before buffering: 413', () => {
  const f = new SipStreamFramer({ maxMessageBytes: 4096, maxHeaders: 100, maxHeaderLineBytes: 1024, maxBodyBytes: 1000 });
  const items = f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 1001\r\n\r\nxx'));
  assert.equal(items[0].type === 'error' && items[0].error.status, 413);
  assert.ok(items[0].type === 'error' && items[0].head?.toString().startsWith('MESSAGE sip:a@b SIP/2.0\r\n'));
  assert.ok(f.closed);
  assert.equal(f.bufferedBytes, 0);
});

test('a header section over maxMessageBytes is an error: 513', () => {
  const f = new SipStreamFramer({ maxMessageBytes: 200, maxHeaders: 100, maxHeaderLineBytes: 1024, maxBodyBytes: 1000 });
  const items: FramedItem[] = [];
  items.push(...f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\n')));
  for (let i = 0; i < 20 && !f.closed; i++) items.push(...f.push(Buffer.from('X-Pad: 0123456789\r\n')));
  const last = items.at(-1);
  assert.equal(last?.type === 'error' && last.error.status, 513);
  assert.equal(last?.type === 'error' && last.head, undefined);
  assert.ok(f.closed);
});

test('an over-long header line is an error', () => {
  const f = new SipStreamFramer({ maxMessageBytes: 10000, maxHeaders: 100, maxHeaderLineBytes: 100, maxBodyBytes: 1000 });
  const items = f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nX: ' + 'y'.repeat(200)));
  assert.equal(items[0].type === 'error' && items[0].error.code, 'SIP_HEADER_TOO_LONG');
});

test('two different Content-Length values are refused (no request smuggling)', () => {
  const f = new SipStreamFramer();
  const items = f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 5\r\n\r\nabcde'));
  assert.equal(items[0].type === 'error' && items[0].error.code, 'SIP_DUPLICATE_HEADER');
});

test('negative Content-Length is refused', () => {
  const f = new SipStreamFramer();
  const items = f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n'));
  assert.equal(items[0].type === 'error' && items[0].error.code, 'SIP_BAD_CONTENT_LENGTH');
});

test('a non-SIP first line (HTTP, TLS hello) closes at once', () => {
  const f = new SipStreamFramer();
  const items = f.push(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  assert.equal(items[0].type === 'error' && items[0].error.code, 'SIP_BAD_START_LINE');
  const g = new SipStreamFramer();
  assert.equal(g.push(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x0a]))[0]?.type, 'error');
});

test('errors about responses carry status 0 (nothing to answer)', () => {
  const f = new SipStreamFramer();
  const items = f.push(Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h\r\n\r\n'));
  assert.equal(items[0].type === 'error' && items[0].error.status, 0);
});

test('keeps only the incomplete tail between pushes', () => {
  const f = new SipStreamFramer();
  const a = msg('a');
  f.push(Buffer.concat([a, a.subarray(0, 10)]));
  assert.equal(f.bufferedBytes, 10);
});

test('a body trickled one byte per segment is held in few buffers and comes out intact', () => {
  const f = new SipStreamFramer();
  const a = msg('z'.repeat(100_000));
  const out: FramedItem[] = [];
  let maxChunks = 0;
  for (let i = 0; i < a.length; i++) {
    out.push(...f.push(a.subarray(i, i + 1)));
    maxChunks = Math.max(maxChunks, f.bufferedChunks);
  }
  assert.deepEqual(messages(out), [a.toString()]);
  assert.ok(maxChunks <= Math.ceil(a.length / 256) + 1, `held ${maxChunks} buffers`);
});

test('mixed tiny and large segments frame the same messages as one push', () => {
  const stream = Buffer.concat([msg('one'), Buffer.from('\r\n\r\n'), msg('two'.repeat(300)), msg('three')]);
  const sizes = [1, 3, 700, 2, 1, 255, 256, 4, 1000];
  const f = new SipStreamFramer();
  const out: FramedItem[] = [];
  for (let p = 0, k = 0; p < stream.length; k++) {
    const n = sizes[k % sizes.length];
    out.push(...f.push(stream.subarray(p, p + n)));
    p += n;
  }
  assert.deepEqual(out.map((i) => i.type), new SipStreamFramer().push(stream).map((i) => i.type));
  assert.deepEqual(messages(out), messages(new SipStreamFramer().push(stream)));
});
