/**
 * Property tests: no codec entry point throws or runs away on hostile input, framing is
 * independent of how the stream is cut, and parse(serialize(m)) gives m back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { serializeMessage } from '../../../src/transport/sip/serializer.js';
import { SipStreamFramer, type FramedItem } from '../../../src/transport/sip/framing.js';
import { parseUri, formatUri } from '../../../src/transport/sip/uri.js';
import { parseNameAddr, formatNameAddr, parseVia, parseCSeq } from '../../../src/transport/sip/nameAddr.js';
import { parseMultipart, buildMultipart } from '../../../src/transport/sip/multipart.js';
import { parseHeaderParams, splitHeaderList, getHeader } from '../../../src/transport/sip/headers.js';
import type { SipHeader, SipMessage, SipUri } from '../../../src/transport/sip/message.js';
import type { SipLimits } from '../../../src/transport/sip/limits.js';

const dir = new URL('../../../../shared/conformance/rfc4475/', import.meta.url);
const seeds = ['wsinv.dat', 'intmeth.dat', 'esc01.dat', 'longreq.dat', 'mpart01.dat', 'dblreq.dat', 'unreason.dat', 'inv2543.dat']
  .map((f) => readFileSync(new URL(f, dir)));

/** Wall-clock bound per call: generous for slow CI, far below what a quadratic blow-up takes. */
const MAX_MS = 250;
function timed<T>(f: () => T): T {
  const t0 = performance.now();
  const r = f();
  const ms = performance.now() - t0;
  assert.ok(ms < MAX_MS, `took ${ms.toFixed(1)} ms`);
  return r;
}

// ---- generators --------------------------------------------------------------------------

const alnum = fc.stringMatching(/^[a-z0-9]{1,12}$/);
const host = fc.oneof(
  fc.tuple(alnum, fc.constantFrom('example.com', 'conf.example.org', 'h')).map(([a, b]) => `${a}.${b}`),
  fc.tuple(fc.integer({ min: 1, max: 254 }), fc.integer({ min: 0, max: 255 })).map(([a, b]) => `192.0.${b}.${a}`),
  fc.constantFrom('[2001:db8::1]', '[::1]'),
);
/** Text with the characters that break naive parsers: quotes, commas, escapes, UTF-8. */
const trickyText = fc
  .array(fc.constantFrom('a', 'Z', '0', ' ', 'é', '👋', '大', '"', ',', ';', '<', '>', '\\', '%', ':', '@', '='), { minLength: 1, maxLength: 24 })
  .map((a) => a.join(''))
  .filter((s) => s.trim() === s && s.length > 0);
const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,16}$/);

const sipUri: fc.Arbitrary<SipUri> = fc.record({
  scheme: fc.constantFrom('sip' as const, 'sips' as const),
  user: fc.option(trickyText, { nil: undefined }),
  host,
  port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
  params: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), fc.option(fc.stringMatching(/^[A-Za-z0-9 %;]{1,8}$/), { nil: null }), { maxKeys: 3, noNullPrototype: true }),
  headers: fc.dictionary(fc.stringMatching(/^[A-Za-z][a-z]{0,8}$/), trickyText, { maxKeys: 2, noNullPrototype: true }),
}).map((u) => {
  const out: { -readonly [K in keyof SipUri]: SipUri[K] } = { scheme: u.scheme, host: u.host, params: u.params, headers: u.headers };
  if (u.user !== undefined) out.user = u.user;
  if (u.port !== undefined) out.port = u.port;
  return out;
});

const nameAddr = (tag: boolean) =>
  fc.tuple(fc.option(trickyText, { nil: undefined }), alnum, host, token).map(([dn, user, h, t]) =>
    formatNameAddr({ ...(dn !== undefined ? { displayName: dn } : {}), uri: `sip:${user}@${h}`, params: tag ? { tag: t } : {} }));

const extraHeader: fc.Arbitrary<SipHeader> = fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,10}$/), trickyText).map(([name, value]) => ({ name, value }));

const body = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  trickyText.map((s) => Buffer.from(s, 'utf8')),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);

/** A message as an application builds it, with the Content-Length the serializer will write. */
const message: fc.Arbitrary<SipMessage> = fc
  .record({
    isRequest: fc.boolean(),
    method: fc.oneof(fc.constantFrom('INVITE', 'MESSAGE', 'OPTIONS', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'BYE'), token),
    ruri: sipUri,
    status: fc.integer({ min: 100, max: 699 }),
    reason: fc.oneof(fc.constant(''), trickyText),
    vias: fc.array(fc.tuple(fc.constantFrom('UDP', 'TCP', 'TLS', 'WS'), host, alnum), { minLength: 1, maxLength: 3 }),
    from: nameAddr(true),
    to: nameAddr(false),
    callId: fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~()<>:\\"/[\]?{}-]{1,30}(@[a-z0-9.]{1,10})?$/),
    seq: fc.integer({ min: 0, max: 0xffffffff }),
    maxForwards: fc.integer({ min: 0, max: 255 }),
    contacts: fc.array(nameAddr(false), { maxLength: 3 }),
    extra: fc.array(extraHeader, { maxLength: 4 }),
    subject: fc.option(trickyText, { nil: undefined }),
    body,
  })
  .map((g) => {
    const headers: SipHeader[] = [
      ...g.vias.map(([t, h, b]) => ({ name: 'via', value: `SIP/2.0/${t} ${h};branch=z9hG4bK${b}` })),
      { name: 'max-forwards', value: String(g.maxForwards) },
      { name: 'from', value: g.from },
      { name: 'to', value: g.to },
      { name: 'call-id', value: g.callId },
      { name: 'cseq', value: `${g.seq} ${g.method}` },
      ...g.contacts.map((c) => ({ name: 'contact', value: c })),
      ...g.extra,
      ...(g.subject !== undefined ? [{ name: 'subject', value: g.subject }] : []),
      { name: 'content-length', value: String(g.body.length) },
    ];
    return g.isRequest
      ? { kind: 'request' as const, method: g.method, uri: formatUri({ ...g.ruri, headers: {} }) /* RFC 3261 19.1.1: no headers in a Request-URI */, headers, body: g.body }
      : { kind: 'response' as const, status: g.status, reason: g.reason, headers, body: g.body };
  });

// ---- mutations ---------------------------------------------------------------------------

type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'hugeLength'; digits: number }
  | { op: 'headerBomb'; count: number; folded: boolean };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ op: fc.constant('hugeLength' as const), digits: fc.integer({ min: 5, max: 40 }) }),
  fc.record({ op: fc.constant('headerBomb' as const), count: fc.integer({ min: 50, max: 5000 }), folded: fc.boolean() }),
);

function mutate(data: Buffer, m: Mutation): Buffer {
  const at = data.length === 0 ? 0 : ('at' in m ? m.at % data.length : 0);
  switch (m.op) {
    case 'flip': {
      const c = Buffer.from(data);
      if (c.length > 0) c[at] = m.byte;
      return c;
    }
    case 'truncate':
      return data.subarray(0, at);
    case 'duplicate':
      return Buffer.concat([data.subarray(0, at), data.subarray(at, at + m.len), data.subarray(at)]);
    case 'hugeLength':
      return Buffer.from(data.toString('latin1').replace(/(Content-Length|\nl)\s*:\s*\d+/i, `$1: ${'9'.repeat(m.digits)}`), 'latin1');
    case 'headerBomb': {
      const line = m.folded ? 'X-Bomb: a\r\n' + ' b\r\n'.repeat(3) : 'X-Bomb: a,b,c,d\r\n';
      const i = data.indexOf('\r\n');
      return Buffer.concat([data.subarray(0, i + 2), Buffer.from(line.repeat(m.count)), data.subarray(i + 2)]);
    }
  }
}

const small: SipLimits = { maxMessageBytes: 4096, maxHeaders: 60, maxHeaderLineBytes: 1024, maxBodyBytes: 2048 };

// ---- properties --------------------------------------------------------------------------

test('random bytes never make parseMessage or the framer throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (a) => {
    const b = Buffer.from(a);
    const r = timed(() => parseMessage(b));
    assert.equal(typeof r.ok, 'boolean');
    timed(() => new SipStreamFramer().push(b));
  }), { numRuns: 500 });
});

test('random SIP-looking text never makes parseMessage throw', () => {
  const line = fc.oneof(fc.constantFrom('Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'CSeq: 1 INVITE', 'l: 3', 'Content-Length: 0', ' folded', 'From: "a <sip:x@y>', 'To: <sip:a@b>;tag', 'Call-ID: x', ''), trickyText);
  fc.assert(fc.property(fc.constantFrom('INVITE sip:a@b SIP/2.0', 'SIP/2.0 200 OK', 'X y SIP/2.0'), fc.array(line, { maxLength: 30 }), (start, lines) => {
    const r = timed(() => parseMessage(Buffer.from([start, ...lines, '', 'abc'].join('\r\n'))));
    assert.equal(typeof r.ok, 'boolean');
  }), { numRuns: 500 });
});

test('mutated RFC 4475 messages never throw, stay fast, and errors carry a SIP status', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
    const data = ms.reduce(mutate, seeds[i]);
    for (const limits of [undefined, small]) {
      const r = timed(() => parseMessage(data, limits));
      if (!r.ok) assert.ok([0, 400, 413, 505, 513].includes(r.error.status), `${r.error.status} ${r.error.message}`);
      const f = new SipStreamFramer(limits);
      const items = timed(() => f.push(data));
      for (const it of items) {
        if (it.type === 'error') assert.ok([0, 400, 413, 513].includes(it.error.status));
        if (it.type === 'message') timed(() => parseMessage(it.data, limits));
      }
    }
  }), { numRuns: 300 });
});

test('the framer never holds more than a header section + a body + one chunk', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: seeds.length - 1 }), fc.array(mutation, { maxLength: 3 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }), (i, ms, cuts) => {
    const data = Buffer.concat([ms.reduce(mutate, seeds[i]), ms.reduce(mutate, seeds[(i + 1) % seeds.length])]);
    const f = new SipStreamFramer(small);
    let pos = 0;
    for (let k = 0; pos < data.length; k++) {
      const chunk = data.subarray(pos, pos + cuts[k % cuts.length]);
      pos += chunk.length;
      f.push(chunk);
      assert.ok(f.bufferedBytes <= small.maxMessageBytes + small.maxBodyBytes + chunk.length, `buffered ${f.bufferedBytes}`);
      if (f.closed) assert.equal(f.bufferedBytes, 0);
    }
  }), { numRuns: 300 });
});

test('the framer is bounded on an endless header section fed in small chunks', () => {
  const f = new SipStreamFramer(small);
  f.push(Buffer.from('MESSAGE sip:a@b SIP/2.0\r\n'));
  let items: FramedItem[] = [];
  for (let i = 0; i < 1000 && !f.closed; i++) {
    items = f.push(Buffer.from('X-Grow: 0123456789\r\n'));
    assert.ok(f.bufferedBytes <= small.maxMessageBytes + 20);
  }
  assert.ok(f.closed);
  assert.equal(items.at(-1)?.type, 'error');
});

test('any split of a stream of messages yields the same messages as the unsplit stream', () => {
  fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 30 }), fc.boolean(), (msgs, cuts, pings) => {
    const wire = Buffer.concat(msgs.flatMap((m) => [serializeMessage(m), ...(pings ? [Buffer.from('\r\n\r\n')] : [])]));
    const whole = new SipStreamFramer().push(wire);
    const split: FramedItem[] = [];
    const f = new SipStreamFramer();
    let pos = 0;
    for (let k = 0; pos < wire.length; k++) {
      const n = cuts[k % cuts.length];
      split.push(...f.push(wire.subarray(pos, pos + n)));
      pos += n;
    }
    const msgsOf = (items: FramedItem[]) => items.flatMap((i) => (i.type === 'message' ? [i.data] : []));
    assert.equal(msgsOf(whole).length, msgs.length);
    assert.deepEqual(msgsOf(split), msgsOf(whole));
    assert.ok(split.every((i) => i.type !== 'error'));
    if (pings) assert.ok(split.some((i) => i.type === 'ping'));
  }), { numRuns: 200 });
});

test('parse(serialize(m)) equals m for generated messages', () => {
  fc.assert(fc.property(message, (m) => {
    const r = parseMessage(serializeMessage(m));
    assert.ok(r.ok, r.ok ? '' : `${r.error.message}\n${serializeMessage(m).toString()}`);
    assert.deepEqual(r.message, m);
  }), { numRuns: 400 });
});

test('display names with quotes, commas and UTF-8 survive a message round trip', () => {
  fc.assert(fc.property(trickyText, (dn) => {
    const from = formatNameAddr({ displayName: dn, uri: 'sip:a@example.com', params: { tag: '1' } });
    const wire = `OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: ${from}\r\nTo: <sip:b@example.com>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
    const r = parseMessage(Buffer.from(wire));
    assert.ok(r.ok);
    assert.equal(parseNameAddr(getHeader(r.message, 'from') ?? '')?.displayName, dn);
  }), { numRuns: 300 });
});

test('parseUri(formatUri(u)) equals u', () => {
  fc.assert(fc.property(sipUri, (u) => {
    assert.deepEqual(parseUri(formatUri(u)), u);
  }), { numRuns: 400 });
});

test('string parsers never throw on arbitrary text', () => {
  const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), trickyText.map((s) => 'sip:' + s));
  fc.assert(fc.property(text, (s) => {
    timed(() => {
      parseUri(s);
      parseNameAddr(s);
      parseVia(s);
      parseCSeq(s);
      parseHeaderParams(s);
      splitHeaderList(s);
      parseMultipart(s, Buffer.from(s));
      parseMultipart('multipart/mixed;boundary=b', Buffer.from(s));
    });
  }), { numRuns: 500 });
});

test('long runs of spaces and labels stay linear', () => {
  const spaces = ' '.repeat(60000);
  timed(() => parseMessage(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX: a${spaces.slice(0, 8000)}\r\n ${spaces.slice(0, 100)}b\r\n\r\n`)));
  timed(() => parseUri('sip:a@' + 'a'.repeat(250) + '-'));
  timed(() => parseUri('sip:a@' + 'a'.repeat(60000) + '-'));
  timed(() => parseNameAddr('"' + '\\"'.repeat(30000)));
  timed(() => splitHeaderList('"'.repeat(60000)));
});

test('mutated multipart bodies never throw', () => {
  const mp = buildMultipart([
    { contentType: 'application/sdp', body: Buffer.from('v=0\r\n') },
    { contentType: 'application/resource-lists+xml', headers: [{ name: 'content-disposition', value: 'recipient-list' }], body: Buffer.from('<x/>') },
  ], 'bnd');
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
    const data = ms.reduce(mutate, mp.body);
    const r = timed(() => parseMultipart(mp.contentType, data, { maxParts: 10 }));
    assert.ok('parts' in r || r.status === 400 || r.status === 413);
  }), { numRuns: 300 });
});
