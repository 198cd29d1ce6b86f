/**
 * RFC 4475 torture messages, read from /work/shared/conformance/rfc4475 at run time. Each file's
 * expected outcome at the codec level is in the table below, with the RFC's reasoning:
 * - `parse`: the message is valid (3.1.1) or its problem is for the transaction/application
 *   layer (3.2, 3.3, 3.4): it parses, and `check` asserts the values those layers decide on;
 * - `reject`: the parser refuses it with the status the UAS answers (400, 505);
 * - `drop`: a broken response: nothing can be answered (status 0), it is discarded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { getHeader, getHeaders, parseDeltaSeconds, parseSipDate } from '../../../src/transport/sip/headers.js';
import { parseCSeq, parseNameAddr, parseVia } from '../../../src/transport/sip/nameAddr.js';
import { parseUri, uriScheme } from '../../../src/transport/sip/uri.js';
import { parseMultipart } from '../../../src/transport/sip/multipart.js';
import { SipStreamFramer } from '../../../src/transport/sip/framing.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../src/transport/sip/message.js';
import { ProtocolError } from '../../../src/errors.js';

const dir = new URL('../../../../shared/conformance/rfc4475/', import.meta.url);

type Expect =
  | { outcome: 'parse'; check: (m: SipMessage) => void }
  | { outcome: 'reject'; status: number; code: string; partialHas?: string[] }
  | { outcome: 'drop'; code: string };

const req = (m: SipMessage): SipRequest => {
  assert.equal(m.kind, 'request');
  return m as SipRequest;
};
const res = (m: SipMessage): SipResponse => {
  assert.equal(m.kind, 'response');
  return m as SipResponse;
};
const na = (v: string | undefined) => {
  const r = parseNameAddr(v ?? '');
  assert.ok(r, `name-addr ${v}`);
  return r;
};
const sipBody = (m: SipMessage, len: number) => {
  assert.equal(m.body.length, len);
  if (getHeader(m, 'content-length') !== undefined) assert.equal(Number(getHeader(m, 'content-length')), len);
};

const table: Record<string, { section: string; expect: Expect }> = {
  // 3.1.1.1: LWS and folding everywhere, compact/case-varied names, escaped quotes, leading zeros.
  'wsinv.dat': { section: '3.1.1.1', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(r.method, 'INVITE');
    assert.equal(r.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    assert.equal(getHeader(r, 'call-id'), 'wsinv.ndaksdj@192.0.2.1');
    assert.equal(getHeader(r, 'max-forwards'), '0068');
    assert.deepEqual(parseCSeq(getHeader(r, 'cseq') ?? ''), { seq: 9, method: 'INVITE' });
    assert.deepEqual(getHeaders(r, 'via').map((v) => parseVia(v)?.transport), ['UDP', 'TCP', 'UDP']);
    assert.equal(parseVia(getHeaders(r, 'via')[2])?.params.branch, 'z9hG4bK30239');
    assert.equal(na(getHeader(r, 'to')).params.tag, '1918181833n');
    assert.equal(na(getHeader(r, 'from')).displayName, 'J Rosenberg \\"');
    assert.equal(na(getHeader(r, 'from')).params.tag, '98asjd8');
    assert.equal(getHeader(r, 'subject'), '');
    assert.equal(getHeader(r, 'newfangledheader'), 'newfangled value continued newfangled value');
    assert.equal(getHeader(r, 'unknownheaderwithunusualvalue'), ';;,,;;,;');
    assert.deepEqual(na(getHeader(r, 'contact')).params, { newparam: 'newvalue', secondparam: null, q: '0.33' });
    assert.equal(na(getHeader(r, 'contact')).displayName, 'Quoted string ""');
    sipBody(r, 150);
  } } },
  // 3.1.1.2: unusual but legal characters in method, URI, tokens, quoted strings, UTF-8.
  'intmeth.dat': { section: '3.1.1.2', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(r.method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert.deepEqual(parseCSeq(getHeader(r, 'cseq') ?? ''), { seq: 139122385, method: r.method });
    const u = parseUri(r.uri);
    assert.equal(u?.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(u?.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(getHeader(r, 'call-id'), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.equal(na(getHeader(r, 'to')).displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    const from = na(getHeader(r, 'from'));
    assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(from.params.tag, "_token~1'+`*%!-.");
    assert.equal(from.params["fromparam''~+*_!.-%"], '"\u0440\u0430\u0431\u043e\u0442\u0430\u044e\u0449\u0438\u0439"');
    assert.equal(getHeader(r, "extensionHeader-!.%*+_`'~"), '\ufeff\u5927\u505c\u96fb');
    sipBody(r, 0);
  } } },
  // 3.1.1.3: escapes in Request-URI, To, From and Contact parameters are decoded, not interpreted.
  'esc01.dat': { section: '3.1.1.3', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(parseUri(r.uri)?.user, 'sips:user@example.com');
    assert.equal(parseUri(r.uri)?.host, 'example.net');
    assert.equal(parseUri(na(getHeader(r, 'to')).uri)?.user, 'user');
    assert.equal(parseUri(na(getHeader(r, 'from')).uri)?.user, 'I have spaces');
    const c = parseUri(na(getHeader(r, 'contact')).uri);
    assert.equal(c?.user, 'caller');
    assert.deepEqual(c?.params, { lr: null, name: 'value%41' });
    assert.equal(getHeader(r, 'call-id'), 'esc01.239409asdfakjkn23onasd0-3234');
    sipBody(r, 150);
  } } },
  // 3.1.1.4: %00 is a legal escape; decoded NULs must not truncate anything.
  'escnull.dat': { section: '3.1.1.4', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(parseUri(na(getHeader(r, 'to')).uri)?.user, 'null-\x00-null');
    assert.deepEqual(getHeaders(r, 'contact').map((c) => parseUri(na(c).uri)?.user), ['\x00', '\x00\x00']);
  } } },
  // 3.1.1.5: "%" in tokens (method, branch) and quoted strings is not an escape; C%6Fntact is another header.
  'esc02.dat': { section: '3.1.1.5', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(r.method, 'RE%47IST%45R');
    assert.equal(parseCSeq(getHeader(r, 'cseq') ?? '')?.method, 'RE%47IST%45R');
    assert.equal(na(getHeader(r, 'to')).displayName, '%Z%45');
    assert.equal(parseVia(getHeader(r, 'via') ?? '')?.params.branch, 'z9hG4bK209%fzsnel234');
    assert.equal(getHeaders(r, 'contact').length, 2);
    assert.equal(getHeader(r, 'c%6fntact'), '<sip:alias2@host2.example.com>');
  } } },
  // 3.1.1.6: no LWS between display name and "<".
  'lwsdisp.dat': { section: '3.1.1.6', expect: { outcome: 'parse', check(m) {
    assert.equal(na(getHeader(m, 'from')).displayName, 'caller');
    assert.equal(na(getHeader(m, 'from')).uri, 'sip:caller@example.com');
  } } },
  // 3.1.1.7: long values and 34 Via entries under many spellings of "Via" and "v".
  'longreq.dat': { section: '3.1.1.7', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(getHeaders(r, 'via').length, 34);
    assert.ok(getHeaders(r, 'via').every((v) => parseVia(v) !== undefined));
    assert.match(getHeader(r, 'call-id') ?? '', /^longreq\.onereally.*longcallid$/);
    assert.match(na(getHeader(r, 'to')).displayName ?? '', /^I have a user name of (extreme)+ proportion$/);
    assert.equal(parseUri(na(getHeader(r, 'to')).uri)?.port, 6000);
    sipBody(r, 150);
  } } },
  // 3.1.1.8: a UDP datagram with a second request after Content-Length: process the first, ignore the rest.
  'dblreq.dat': { section: '3.1.1.8', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(r.method, 'REGISTER');
    assert.equal(getHeader(r, 'call-id'), 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    sipBody(r, 0);
  } } },
  // 3.1.1.9: ";" in the user part of a SIP URI belongs to the user.
  'semiuri.dat': { section: '3.1.1.9', expect: { outcome: 'parse', check(m) {
    const u = parseUri(req(m).uri);
    assert.equal(u?.user, 'user;par=u@example.net');
    assert.equal(u?.host, 'example.com');
    assert.deepEqual(u?.params, {});
    assert.equal(getHeaders(m, 'accept').length, 6);
  } } },
  // 3.1.1.10: unknown transports in Via are legal.
  'transports.dat': { section: '3.1.1.10', expect: { outcome: 'parse', check(m) {
    assert.deepEqual(getHeaders(m, 'via').map((v) => parseVia(v)?.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    assert.equal(getHeader(m, 'call-id'), 'transports.kijh4akdnaqjkwendsasfdj');
  } } },
  // 3.1.1.11: multipart/mixed with a binary part; Content-Length counts the binary octets.
  'mpart01.dat': { section: '3.1.1.11', expect: { outcome: 'parse', check(m) {
    sipBody(m, 553);
    const mp = parseMultipart(getHeader(m, 'content-type') ?? '', m.body);
    assert.ok(!(mp instanceof ProtocolError));
    assert.deepEqual(mp.parts.map((p) => getHeader(p, 'content-type')), ['text/plain', 'application/octet-stream']);
  } } },
  // 3.1.1.12: reason phrase with UTF-8 and odd characters: only the code matters.
  'unreason.dat': { section: '3.1.1.12', expect: { outcome: 'parse', check(m) {
    const r = res(m);
    assert.equal(r.status, 200);
    assert.ok(r.reason.startsWith('= 2**3 * 5**2 \u043d\u043e'));
    sipBody(r, 154);
  } } },
  // 3.1.1.13: empty reason phrase.
  'noreason.dat': { section: '3.1.1.13', expect: { outcome: 'parse', check(m) {
    assert.equal(res(m).status, 100);
    assert.equal(res(m).reason, '');
  } } },

  // 3.1.2.1: ";;,;,," in Via and ";;;;" in Contact: syntactically invalid -> 400.
  'badinv01.dat': { section: '3.1.2.1', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_VIA', partialHas: ['call-id', 'cseq', 'from', 'to'] } },
  // 3.1.2.2: Content-Length larger than the datagram -> 400 (over a stream the framer just waits).
  'clerr.dat': { section: '3.1.2.2', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_CONTENT_LENGTH', partialHas: ['via'] } },
  // 3.1.2.3: negative Content-Length -> 400.
  'ncl.dat': { section: '3.1.2.3', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_CONTENT_LENGTH', partialHas: ['via'] } },
  // 3.1.2.4: CSeq beyond 32 bits -> 400 (Max-Forwards 300 and the huge Expires are also bad; the
  // expiries alone would be treated as default values: parseDeltaSeconds gives undefined).
  'scalar02.dat': { section: '3.1.2.4', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_CSEQ', partialHas: ['via', 'expires'] } },
  // 3.1.2.5: response with overlarge CSeq and Retry-After: discard.
  'scalarlg.dat': { section: '3.1.2.5', expect: { outcome: 'drop', code: 'SIP_BAD_CSEQ' } },
  // 3.1.2.6: unterminated quoted display name in To -> 400.
  'quotbal.dat': { section: '3.1.2.6', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_NAME_ADDR', partialHas: ['via'] } },
  // 3.1.2.7: "<>" around the Request-URI -> 400.
  'ltgtruri.dat': { section: '3.1.2.7', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_REQUEST_URI', partialHas: ['via', 'call-id'] } },
  // 3.1.2.8: LWS inside the Request-URI (4 elements on the line) -> 400.
  'lwsruri.dat': { section: '3.1.2.8', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_START_LINE', partialHas: ['via'] } },
  // 3.1.2.9: several SP between Request-Line elements -> 400 (the RFC allows rejecting).
  'lwsstart.dat': { section: '3.1.2.9', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_START_LINE', partialHas: ['via'] } },
  // 3.1.2.10: trailing SP after SIP-Version -> 400.
  'trws.dat': { section: '3.1.2.10', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_START_LINE', partialHas: ['via'] } },
  // 3.1.2.11: escaped headers in the Request-URI are forbidden (RFC 3261 19.1.1) -> 400.
  'escruri.dat': { section: '3.1.2.11', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_REQUEST_URI', partialHas: ['via'] } },
  // 3.1.2.12: non-GMT Date: an element may reject it or ignore the Date header; Parley does not
  // use Date, so it parses and parseSipDate refuses the value.
  'baddate.dat': { section: '3.1.2.12', expect: { outcome: 'parse', check(m) {
    assert.equal(getHeader(m, 'date'), 'Fri, 01 Jan 2010 16:00:00 EST');
    assert.equal(parseSipDate(getHeader(m, 'date') ?? ''), undefined);
  } } },
  // 3.1.2.13: an addr-spec with "?" must be in <> -> 400.
  'regbadct.dat': { section: '3.1.2.13', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_NAME_ADDR', partialHas: ['via'] } },
  // 3.1.2.14: spaces inside <...> -> 400.
  'badaspec.dat': { section: '3.1.2.14', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_NAME_ADDR', partialHas: ['via'] } },
  // 3.1.2.15: unquoted display names with "," -> 400.
  'baddn.dat': { section: '3.1.2.15', expect: { outcome: 'reject', status: 400, code: 'SIP_BAD_NAME_ADDR', partialHas: ['via'] } },
  // 3.1.2.16: SIP/7.0 -> 505 Version Not Supported.
  'badvers.dat': { section: '3.1.2.16', expect: { outcome: 'reject', status: 505, code: 'SIP_BAD_VERSION', partialHas: ['via', 'call-id'] } },
  // 3.1.2.17: CSeq method differs from the request method -> 400.
  'mismatch01.dat': { section: '3.1.2.17', expect: { outcome: 'reject', status: 400, code: 'SIP_CSEQ_METHOD_MISMATCH', partialHas: ['via'] } },
  // 3.1.2.18: unknown method with a mismatching CSeq -> 400, not 501.
  'mismatch02.dat': { section: '3.1.2.18', expect: { outcome: 'reject', status: 400, code: 'SIP_CSEQ_METHOD_MISMATCH', partialHas: ['via'] } },
  // 3.1.2.19: status code 4294967301 in a response: discard.
  'bigcode.dat': { section: '3.1.2.19', expect: { outcome: 'drop', code: 'SIP_BAD_STATUS' } },

  // 3.2.1: branch is only the magic cookie: the transaction layer must not treat it as an RFC 3261
  // branch (match as RFC 2543). The codec exposes the value.
  'badbranch.dat': { section: '3.2.1', expect: { outcome: 'parse', check(m) {
    assert.equal(parseVia(getHeader(m, 'via') ?? '')?.params.branch, 'z9hG4bK');
  } } },
  // 3.3.1: no To, From, Call-ID, Max-Forwards -> 400; Via and CSeq are there to answer with.
  'insuf.dat': { section: '3.3.1', expect: { outcome: 'reject', status: 400, code: 'SIP_MISSING_HEADER', partialHas: ['via', 'cseq'] } },
  // 3.3.2: unknown Request-URI scheme: not a syntax error; the application answers 416.
  'unkscm.dat': { section: '3.3.2', expect: { outcome: 'parse', check(m) {
    assert.equal(uriScheme(req(m).uri), 'nobodyknowsthisscheme');
    assert.equal(parseUri(req(m).uri), undefined);
  } } },
  // 3.3.3: soap.beep is a real scheme but not one a SIP UAS serves: 416 from the application.
  'novelsc.dat': { section: '3.3.3', expect: { outcome: 'parse', check(m) {
    assert.equal(uriScheme(req(m).uri), 'soap.beep');
    assert.equal(parseUri(req(m).uri), undefined);
  } } },
  // 3.3.4: unknown schemes in To/From/Contact are legal syntax; the registrar cannot use a
  // non-SIP AoR and refuses at the application layer.
  'unksm2.dat': { section: '3.3.4', expect: { outcome: 'parse', check(m) {
    assert.equal(na(getHeader(m, 'to')).uri, 'isbn:2983792873');
    assert.equal(parseUri(na(getHeader(m, 'to')).uri), undefined);
    assert.equal(na(getHeader(m, 'from')).uri, 'http://www.example.com');
    assert.equal(na(getHeader(m, 'contact')).uri, 'name:John_Smith');
  } } },
  // 3.3.5: unknown Require / Proxy-Require: 420 Bad Extension listing them in Unsupported.
  'bext01.dat': { section: '3.3.5', expect: { outcome: 'parse', check(m) {
    assert.deepEqual(getHeaders(m, 'require'), ['nothingSupportsThis', 'nothingSupportsThisEither']);
    assert.deepEqual(getHeaders(m, 'proxy-require'), ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
  } } },
  // 3.3.6: unknown body type: 415 Unsupported Media Type with Accept.
  'invut.dat': { section: '3.3.6', expect: { outcome: 'parse', check(m) {
    assert.equal(getHeader(m, 'content-type'), 'application/unknownformat');
    sipBody(m, 40);
  } } },
  // 3.3.7: unknown authorization scheme: the registrar challenges (401) as if no credentials.
  'regaut01.dat': { section: '3.3.7', expect: { outcome: 'parse', check(m) {
    assert.deepEqual(getHeaders(m, 'authorization'), ['NoOneKnowsThisScheme opaque-data=here']);
  } } },
  // 3.3.8: two CSeq, Call-ID, To, From and Max-Forwards -> 400.
  'multi01.dat': { section: '3.3.8', expect: { outcome: 'reject', status: 400, code: 'SIP_DUPLICATE_HEADER', partialHas: ['via'] } },
  // 3.3.9: two different Content-Length values: the body cannot be framed -> 400.
  'mcl01.dat': { section: '3.3.9', expect: { outcome: 'reject', status: 400, code: 'SIP_DUPLICATE_HEADER', partialHas: ['via', 'call-id'] } },
  // 3.3.10: 200 OK whose second Via is a broadcast address: parses; the UAC only looks at its own
  // top Via, and a proxy must not forward to 255.255.255.255.
  'bcast.dat': { section: '3.3.10', expect: { outcome: 'parse', check(m) {
    assert.equal(res(m).status, 200);
    assert.equal(parseVia(getHeaders(m, 'via')[1])?.host, '255.255.255.255');
  } } },
  // 3.3.11: Max-Forwards 0 to the UAS itself: answered normally (483 only when forwarding).
  'zeromf.dat': { section: '3.3.11', expect: { outcome: 'parse', check(m) {
    assert.equal(getHeader(m, 'max-forwards'), '0');
  } } },
  // 3.3.12: ";unknownparam" after an addr-spec is a Contact parameter.
  'cparam01.dat': { section: '3.3.12', expect: { outcome: 'parse', check(m) {
    assert.deepEqual(na(getHeader(m, 'contact')), { uri: 'sip:+19725552222@gw1.example.net', params: { unknownparam: null } });
  } } },
  // 3.3.13: inside <> it is a URI parameter, part of the registered contact.
  'cparam02.dat': { section: '3.3.13', expect: { outcome: 'parse', check(m) {
    assert.deepEqual(na(getHeader(m, 'contact')), { uri: 'sip:+19725552222@gw1.example.net;unknownparam', params: {} });
  } } },
  // 3.3.14: a Contact with an escaped Route header: legal; the registrar decides what to store.
  'regescrt.dat': { section: '3.3.14', expect: { outcome: 'parse', check(m) {
    assert.deepEqual(parseUri(na(getHeader(m, 'contact')).uri)?.headers, { Route: '<sip:sip.example.com>' });
  } } },
  // 3.3.15: Accept excludes SDP: the UAS cannot answer with SDP (406 / 488 at the application).
  'sdp01.dat': { section: '3.3.15', expect: { outcome: 'parse', check(m) {
    assert.deepEqual(getHeaders(m, 'accept'), ['text/nobodyKnowsThis']);
    sipBody(m, 150);
  } } },
  // 3.4.1: RFC 2543 syntax: no branch, no Max-Forwards, no Content-Length (UDP: body to the end).
  'inv2543.dat': { section: '3.4.1', expect: { outcome: 'parse', check(m) {
    const r = req(m);
    assert.equal(r.method, 'INVITE');
    assert.equal(parseVia(getHeader(r, 'via') ?? '')?.params.branch, undefined);
    assert.equal(getHeader(r, 'max-forwards'), undefined);
    assert.ok(r.body.toString().startsWith('v=0\r\n'));
    assert.ok(r.body.toString().endsWith('RTP/AVP 0\r\n'));
  } } },
};

test('the RFC 4475 folder is present with 49 messages', () => {
  assert.ok(existsSync(fileURLToPath(dir)), `missing ${fileURLToPath(dir)}: the torture tests cannot run`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.dat')).sort();
  assert.equal(files.length, 49);
  assert.deepEqual(files, Object.keys(table).sort());
});

for (const [file, { section, expect }] of Object.entries(table)) {
  test(`RFC 4475 ${section} ${file}: ${expect.outcome === 'parse' ? 'parses' : expect.outcome === 'drop' ? 'is dropped' : `is rejected with ${expect.status}`}`, () => {
    const data = readFileSync(new URL(file, dir));
    const r = parseMessage(data);
    if (expect.outcome === 'parse') {
      assert.ok(r.ok, r.ok ? '' : `${r.error.code}: ${r.error.message}`);
      expect.check(r.message);
    } else {
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.error.code, expect.code);
      assert.equal(r.error.status, expect.outcome === 'drop' ? 0 : expect.status);
      if (expect.outcome === 'reject') {
        for (const h of expect.partialHas ?? []) assert.ok(r.partial?.headers.some((x) => x.name === h), `partial has ${h}`);
      }
    }
  });
}

test('RFC 4475 3.1.2.4: the overlarge Expires values are unusable (default applies)', () => {
  const r = parseMessage(readFileSync(new URL('scalar02.dat', dir)));
  assert.equal(r.ok, false);
  if (r.ok) return;
  const expires = r.partial?.headers.find((h) => h.name === 'expires')?.value ?? '';
  assert.equal(parseDeltaSeconds(expires), undefined);
});

test('valid messages with Content-Length frame identically over a stream, cut at every byte', () => {
  for (const file of ['wsinv.dat', 'esc01.dat', 'longreq.dat', 'mpart01.dat', 'unreason.dat']) {
    const data = readFileSync(new URL(file, dir));
    for (let cut = 1; cut < data.length; cut += 7) {
      const f = new SipStreamFramer();
      const items = [...f.push(data.subarray(0, cut)), ...f.push(data.subarray(cut))];
      assert.equal(items.length, 1, `${file} cut ${cut}`);
      assert.ok(items[0].type === 'message' && items[0].data.equals(data), `${file} cut ${cut}`);
    }
  }
});
