import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../../src/errors.js';
import { parseMessage } from '../../../src/transport/sip/parser.js';
import { serializeMessage } from '../../../src/transport/sip/serializer.js';
import type { SipRequest } from '../../../src/transport/sip/message.js';
import { getHeader } from '../../../src/transport/sip/headers.js';
import {
  CONFERENCE_EVENT, MESSAGE_SUMMARY_EVENT, REFER_EVENT, acceptRefer, acceptSubscribe, activateSubscription, buildNotify,
  expireSubscription, formatEventHeader, grantExpires, isExpired, matchesSubscription, negotiateContentType, nextDocumentVersion,
  onNotifyResponse, parseEventHeader, refreshSubscription, subscriptionKey, terminateSubscription, type Subscription,
} from '../../../src/transport/sip/subscription.js';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const packages = [CONFERENCE_EVENT, MESSAGE_SUMMARY_EVENT];

function req(method: string, extra: string, opts: { toTag?: string; cseq?: number; contact?: string } = {}): SipRequest {
  const text =
    `${method} sip:room@conf.example.com SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${Math.random().toString(36).slice(2)}\r\n` +
    `From: "Alice" <sip:alice@example.com>;tag=fa\r\n` +
    `To: <sip:room@conf.example.com>${opts.toTag ? ';tag=' + opts.toTag : ''}\r\n` +
    `Call-ID: sub-1@192.0.2.1\r\n` +
    `CSeq: ${opts.cseq ?? 1} ${method}\r\n` +
    `Max-Forwards: 70\r\n` +
    (opts.contact === '' ? '' : `Contact: <${opts.contact ?? 'sip:alice@192.0.2.1:5060'}>\r\n`) +
    `Record-Route: <sip:proxy.example.com;lr>\r\n` +
    extra +
    `Content-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

function accepted(extra = 'Event: conference\r\nExpires: 600\r\n'): Subscription {
  const d = acceptSubscribe(req('SUBSCRIBE', extra), { packages, localTag: 'lt1', now: T0 });
  assert.ok(d.ok, JSON.stringify(d.answer));
  return d.subscription;
}

describe('Event header', () => {
  it('parses package, id and other parameters, and formats them back', () => {
    assert.deepEqual(parseEventHeader('conference'), { package: 'conference', params: {} });
    assert.deepEqual(parseEventHeader('refer;id=93809824'), { package: 'refer', id: '93809824', params: { id: '93809824' } });
    assert.deepEqual(parseEventHeader('presence.winfo ; foo'), { package: 'presence.winfo', params: { foo: null } });
    assert.equal(formatEventHeader('refer', '7'), 'refer;id=7');
  });

  it('refuses a malformed, an id without value, or an overlong Event with 400', () => {
    for (const v of ['', 'con ference', 'refer;id', 'x'.repeat(300)]) {
      const e = parseEventHeader(v);
      assert.ok(e instanceof ProtocolError, v);
      assert.equal(e.status, 400);
    }
  });

  it('round-trips any token package and id', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,30}$/);
    fc.assert(
      fc.property(token, fc.option(token, { nil: undefined }), (pkg, id) => {
        const e = parseEventHeader(formatEventHeader(pkg, id));
        assert.ok(!(e instanceof ProtocolError));
        assert.equal(e.package, pkg);
        assert.equal(e.id, id);
      }),
    );
  });
});

describe('initial SUBSCRIBE', () => {
  it('accepts a known package with 200 and the granted Expires, and keeps plain data', () => {
    const d = acceptSubscribe(req('SUBSCRIBE', 'Event: conference\r\nExpires: 600\r\n'), { packages, localTag: 'lt1', now: T0 });
    assert.ok(d.ok);
    assert.equal(d.answer.status, 200);
    assert.deepEqual(d.answer.headers, [{ name: 'expires', value: '600' }]);
    const s = d.subscription;
    assert.equal(s.state, 'active');
    assert.equal(s.event, 'conference');
    assert.equal(s.contentType, 'application/conference-info+xml');
    assert.equal(s.expiresAt, T0 + 600_000);
    assert.equal(s.version, 0);
    assert.equal(s.dialog.localTag, 'lt1');
    assert.equal(s.dialog.remoteTag, 'fa');
    assert.deepEqual(s.dialog.routeSet, ['<sip:proxy.example.com;lr>']);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s, 'JSON-serializable for the snapshot');
  });

  it('uses the package default without Expires and shortens one over the maximum', () => {
    const a = acceptSubscribe(req('SUBSCRIBE', 'Event: message-summary\r\n'), { packages, localTag: 't', now: T0 });
    assert.ok(a.ok);
    assert.equal(getHeader(a.answer, 'expires'), '3600');
    const b = acceptSubscribe(req('SUBSCRIBE', 'Event: conference\r\nExpires: 999999\r\n'), { packages, localTag: 't', now: T0 });
    assert.ok(b.ok);
    assert.equal(getHeader(b.answer, 'expires'), String(CONFERENCE_EVENT.maxExpires));
    // RFC 4475 3.1.2.4: an overlarge Expires is treated as absent.
    const c = acceptSubscribe(req('SUBSCRIBE', 'Event: conference\r\nExpires: 99999999999999\r\n'), { packages, localTag: 't', now: T0 });
    assert.ok(c.ok);
    assert.equal(getHeader(c.answer, 'expires'), '3600');
  });

  it('answers 423 with Min-Expires for a too brief Expires', () => {
    const d = acceptSubscribe(req('SUBSCRIBE', 'Event: conference\r\nExpires: 5\r\n'), { packages, localTag: 't', now: T0 });
    assert.ok(!d.ok);
    assert.equal(d.answer.status, 423);
    assert.equal(getHeader(d.answer, 'min-expires'), '60');
  });

  it('answers 489 with Allow-Events for an unknown package', () => {
    const d = acceptSubscribe(req('SUBSCRIBE', 'Event: presence\r\n'), { packages, localTag: 't', now: T0 });
    assert.ok(!d.ok);
    assert.equal(d.answer.status, 489);
    assert.equal(getHeader(d.answer, 'allow-events'), 'conference, message-summary');
  });

  it('answers 400 for a missing or repeated Event, a malformed Expires, or no Contact', () => {
    for (const [extra, contact] of [
      ['', undefined],
      ['Event: conference\r\nEvent: conference\r\n', undefined],
      ['Event: conference\r\nExpires: soon\r\n', undefined],
      ['Event: conference\r\n', ''],
    ] as const) {
      const d = acceptSubscribe(req('SUBSCRIBE', extra, { contact }), { packages, localTag: 't', now: T0 });
      assert.ok(!d.ok, extra);
      assert.equal(d.answer.status, 400, extra);
      assert.match(d.answer.reason ?? '', /^Bad Request/);
    }
  });

  it('answers 406 when Accept admits no type of the package, and honours wildcards and q=0', () => {
    const no = acceptSubscribe(req('SUBSCRIBE', 'Event: conference\r\nAccept: application/pidf+xml\r\n'), { packages, localTag: 't', now: T0 });
    assert.ok(!no.ok);
    assert.equal(no.answer.status, 406);
    assert.equal(negotiateContentType(req('SUBSCRIBE', 'Accept: application/*\r\n'), CONFERENCE_EVENT), 'application/conference-info+xml');
    assert.equal(negotiateContentType(req('SUBSCRIBE', 'Accept: */*\r\n'), CONFERENCE_EVENT), 'application/conference-info+xml');
    assert.equal(negotiateContentType(req('SUBSCRIBE', 'Accept: application/conference-info+xml;q=0, text/plain\r\n'), CONFERENCE_EVENT), undefined);
    assert.equal(
      negotiateContentType(req('SUBSCRIBE', 'Accept: text/plain, Application/Conference-Info+XML\r\n'), CONFERENCE_EVENT),
      'application/conference-info+xml',
    );
  });

  it('keeps the Event id and echoes it in NOTIFY', () => {
    const s = accepted('Event: conference;id=abc\r\n');
    assert.equal(s.eventId, 'abc');
    const n = buildNotify(s, { now: T0, contact: 'sip:conf.example.com' });
    assert.equal(getHeader(n.request, 'event'), 'conference;id=abc');
  });

  it('starts pending when asked, and activates', () => {
    const d = acceptSubscribe(req('SUBSCRIBE', 'Event: conference\r\n'), { packages, localTag: 't', now: T0, pending: true });
    assert.ok(d.ok);
    assert.equal(buildNotify(d.subscription, { now: T0, contact: 'sip:c' }).request.headers.find((h) => h.name === 'subscription-state')?.value, 'pending;expires=3600');
    assert.equal(activateSubscription(d.subscription).state, 'active');
  });

  it('treats Expires: 0 as a fetch: 200, then one terminated NOTIFY with the state', () => {
    const s = accepted('Event: message-summary\r\nExpires: 0\r\n');
    assert.equal(s.state, 'terminated');
    const n = buildNotify(s, { now: T0, contact: 'sip:c', body: 'Messages-Waiting: no\r\n' });
    assert.equal(getHeader(n.request, 'subscription-state'), 'terminated;reason=timeout');
    assert.equal(getHeader(n.request, 'content-type'), 'application/simple-message-summary');
  });
});

describe('NOTIFY', () => {
  it('is built in the dialog with Event, Subscription-State active;expires=N, Contact, Content-Type and body', () => {
    const s = accepted();
    const n = buildNotify(s, { now: T0 + 100_500, contact: 'sip:room@10.0.0.1:5060', body: (v) => `<doc version="${v}"/>` });
    const r = n.request;
    assert.equal(r.method, 'NOTIFY');
    assert.equal(r.uri, 'sip:alice@192.0.2.1:5060');
    assert.equal(getHeader(r, 'route'), '<sip:proxy.example.com;lr>');
    assert.equal(getHeader(r, 'from'), '<sip:room@conf.example.com>;tag=lt1');
    assert.equal(getHeader(r, 'to'), '<sip:alice@example.com>;tag=fa');
    assert.equal(getHeader(r, 'cseq'), '1 NOTIFY');
    assert.equal(getHeader(r, 'event'), 'conference');
    assert.equal(getHeader(r, 'subscription-state'), 'active;expires=500');
    assert.equal(getHeader(r, 'contact'), '<sip:room@10.0.0.1:5060>');
    assert.equal(getHeader(r, 'content-type'), 'application/conference-info+xml');
    assert.equal(r.body.toString(), '<doc version="1"/>');
    assert.equal(n.subscription.version, 1);
    assert.equal(n.subscription.dialog.localCSeq, 1);
    // It serializes and parses back as a valid request.
    const back = parseMessage(serializeMessage({ ...r, headers: [{ name: 'via', value: 'SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx' }, ...r.headers] }));
    assert.ok(back.ok);
  });

  it('increases CSeq on every NOTIFY and the version only with a body', () => {
    let s = accepted();
    const versions: number[] = [];
    for (let i = 0; i < 3; i++) {
      assert.equal(nextDocumentVersion(s), i + 1);
      const n = buildNotify(s, { now: T0, contact: 'sip:c', body: (v) => String(v) });
      versions.push(Number(n.request.body.toString()));
      s = n.subscription;
    }
    assert.deepEqual(versions, [1, 2, 3]);
    const bare = buildNotify(s, { now: T0, contact: 'sip:c' });
    assert.equal(bare.subscription.version, 3);
    assert.equal(getHeader(bare.request, 'content-type'), undefined);
    assert.equal(getHeader(bare.request, 'cseq'), '4 NOTIFY');
  });

  it('keeps the subscription on 2xx, 401 and 407, removes it on 481, timeout and other failures', () => {
    assert.equal(onNotifyResponse(200), 'keep');
    assert.equal(onNotifyResponse(202), 'keep');
    assert.equal(onNotifyResponse(401), 'keep');
    assert.equal(onNotifyResponse(407), 'keep');
    for (const s of [481, 408, 503, 500, 603, 489]) assert.equal(onNotifyResponse(s), 'remove');
  });
});

describe('refresh, unsubscribe, expiry', () => {
  it('refreshes: 200 with the new Expires, new expiry, remote target updated', () => {
    const s = accepted();
    const r = refreshSubscription(s, req('SUBSCRIBE', 'Event: conference\r\nExpires: 1200\r\n', { toTag: 'lt1', cseq: 2, contact: 'sip:alice@192.0.2.9' }), {
      package: CONFERENCE_EVENT,
      now: T0 + 300_000,
    });
    assert.ok(r.ok);
    assert.equal(r.answer.status, 200);
    assert.equal(getHeader(r.answer, 'expires'), '1200');
    assert.equal(r.subscription.expiresAt, T0 + 300_000 + 1_200_000);
    assert.equal(r.subscription.dialog.remoteTarget, 'sip:alice@192.0.2.9');
    assert.equal(r.subscription.dialog.remoteCSeq, 2);
    assert.equal(r.subscription.state, 'active');
  });

  it('unsubscribes with Expires: 0: 200 Expires 0, final NOTIFY terminated;reason=timeout', () => {
    const s = accepted();
    const r = refreshSubscription(s, req('SUBSCRIBE', 'Event: conference\r\nExpires: 0\r\n', { toTag: 'lt1', cseq: 2 }), { package: CONFERENCE_EVENT, now: T0 + 1000 });
    assert.ok(r.ok);
    assert.equal(getHeader(r.answer, 'expires'), '0');
    assert.equal(r.subscription.state, 'terminated');
    const n = buildNotify(r.subscription, { now: T0 + 1000, contact: 'sip:c', body: 'x' });
    assert.equal(getHeader(n.request, 'subscription-state'), 'terminated;reason=timeout');
    // Any later refresh finds no subscription.
    const again = refreshSubscription(n.subscription, req('SUBSCRIBE', 'Event: conference\r\n', { toTag: 'lt1', cseq: 3 }), { package: CONFERENCE_EVENT, now: T0 });
    assert.ok(!again.ok);
    assert.equal(again.answer.status, 481);
  });

  it('refuses a refresh out of CSeq order (500), of another package (489), another id (481), too brief (423)', () => {
    const s = accepted('Event: conference;id=1\r\n');
    const cases: Array<[string, number, number]> = [
      ['Event: conference;id=1\r\n', 1, 500],
      ['Event: message-summary\r\n', 2, 489],
      ['Event: conference;id=2\r\n', 2, 481],
      ['Event: conference\r\n', 2, 481],
      ['Event: conference;id=1\r\nExpires: 3\r\n', 2, 423],
      ['', 2, 400],
    ];
    for (const [extra, cseq, status] of cases) {
      const r = refreshSubscription(s, req('SUBSCRIBE', extra, { toTag: 'lt1', cseq }), { package: CONFERENCE_EVENT, now: T0 });
      assert.ok(!r.ok, extra);
      assert.equal(r.answer.status, status, extra);
    }
  });

  it('expires at expiresAt with reason timeout; an early or stale timer changes nothing', () => {
    const s = accepted();
    assert.equal(expireSubscription(s, T0 + 599_999), s);
    assert.ok(!isExpired(s, T0 + 599_999));
    const e = expireSubscription(s, T0 + 600_000);
    assert.equal(e.state, 'terminated');
    assert.equal(e.reason, 'timeout');
    assert.equal(buildNotify(e, { now: T0 + 600_000, contact: 'sip:c' }).request.headers.find((h) => h.name === 'subscription-state')?.value, 'terminated;reason=timeout');
  });

  it('terminates for a notifier reason with retry-after', () => {
    const t = terminateSubscription(accepted(), 'noresource', 30);
    assert.equal(buildNotify(t, { now: T0, contact: 'sip:c' }).request.headers.find((h) => h.name === 'subscription-state')?.value, 'terminated;reason=noresource;retry-after=30');
    assert.equal(terminateSubscription(t, 'deactivated').retryAfter, undefined);
  });

  it('matches in-dialog requests by dialog, package and id, and keys subscriptions apart', () => {
    const s = accepted('Event: conference;id=1\r\n');
    assert.ok(matchesSubscription(s, req('SUBSCRIBE', 'Event: conference;id=1\r\n', { toTag: 'lt1', cseq: 2 })));
    assert.ok(!matchesSubscription(s, req('SUBSCRIBE', 'Event: conference;id=2\r\n', { toTag: 'lt1', cseq: 2 })));
    assert.ok(!matchesSubscription(s, req('SUBSCRIBE', 'Event: conference;id=1\r\n', { toTag: 'other', cseq: 2 })));
    assert.ok(!matchesSubscription(s, req('SUBSCRIBE', 'Event: conference;id=1\r\n')));
    assert.notEqual(subscriptionKey(s), subscriptionKey(accepted('Event: conference;id=2\r\n')));
  });

  it('expiresAt stays consistent for any granted duration and time', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 2 ** 40 }), (asked, now) => {
        const g = grantExpires(asked, CONFERENCE_EVENT);
        if (asked > 0 && asked < CONFERENCE_EVENT.minExpires) return assert.ok(!g.ok);
        assert.ok(g.ok);
        assert.ok(g.expires <= Math.max(asked, 0) && g.expires <= CONFERENCE_EVENT.maxExpires);
        const d = acceptSubscribe(req('SUBSCRIBE', `Event: conference\r\nExpires: ${asked}\r\n`), { packages, localTag: 't', now });
        assert.ok(d.ok);
        assert.equal(d.subscription.expiresAt, now + g.expires * 1000);
        if (g.expires > 0) assert.equal(getHeader(buildNotify(d.subscription, { now, contact: 'sip:c' }).request, 'subscription-state'), `active;expires=${g.expires}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('REFER implicit subscription', () => {
  it('answers 202 and subscribes with Event refer;id=<CSeq>', () => {
    const r = acceptRefer(req('REFER', 'Refer-To: <sip:bob@example.com;method=BYE>\r\n', { cseq: 93809824 }), { localTag: 'rt', now: T0 });
    assert.ok(r.ok);
    assert.equal(r.answer.status, 202);
    assert.equal(r.referTo, '<sip:bob@example.com;method=BYE>');
    assert.ok(r.subscription);
    const n = buildNotify(r.subscription, { now: T0, contact: 'sip:c', body: 'SIP/2.0 100 Trying\r\n' });
    assert.equal(getHeader(n.request, 'event'), 'refer;id=93809824');
    assert.equal(getHeader(n.request, 'content-type'), 'message/sipfrag;version=2.0');
    assert.equal(getHeader(n.request, 'subscription-state'), `active;expires=${REFER_EVENT.defaultExpires}`);
  });

  it('honours Refer-Sub: false, and refuses a missing Refer-To with 400', () => {
    const r = acceptRefer(req('REFER', 'Refer-To: <sip:bob@example.com>\r\nRefer-Sub: false\r\n'), { localTag: 'rt', now: T0 });
    assert.ok(r.ok);
    assert.equal(r.subscription, undefined);
    assert.equal(getHeader(r.answer, 'refer-sub'), 'false');
    const bad = acceptRefer(req('REFER', ''), { localTag: 'rt', now: T0 });
    assert.ok(!bad.ok);
    assert.equal(bad.answer.status, 400);
  });

  it('shares an existing dialog for an in-dialog REFER', () => {
    const dialog = accepted().dialog;
    const r = acceptRefer(req('REFER', 'Refer-To: <sip:bob@example.com>\r\n', { toTag: 'lt1', cseq: 5 }), { localTag: 'x', now: T0, dialog });
    assert.ok(r.ok && r.subscription);
    assert.equal(r.subscription.dialog.localTag, 'lt1');
    assert.equal(r.subscription.dialog.remoteCSeq, 5);
  });
});

describe('robustness', () => {
  it('never throws on arbitrary Event, Expires, Accept and Contact values', () => {
    const value = fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, ' ').trim());
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('conference', 'message-summary;id=1', 'presence', 'conference;id'), value),
        fc.oneof(fc.nat(100_000).map(String), value),
        fc.oneof(fc.constantFrom('application/*', 'text/plain;q=0.5, */*;q=0'), value),
        fc.oneof(fc.constant('<sip:a@192.0.2.1>'), value),
        (ev, exp, acc, contact) => {
        const headers = [
          { name: 'via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' },
          { name: 'from', value: '<sip:a@x>;tag=1' },
          { name: 'to', value: '<sip:r@x>' },
          { name: 'call-id', value: 'c' },
          { name: 'cseq', value: '1 SUBSCRIBE' },
          { name: 'event', value: ev },
          { name: 'expires', value: exp },
          { name: 'accept', value: acc },
          { name: 'contact', value: contact },
        ];
        const r: SipRequest = { kind: 'request', method: 'SUBSCRIBE', uri: 'sip:r@x', headers, body: Buffer.alloc(0) };
        const d = acceptSubscribe(r, { packages, localTag: 't', now: T0 });
        assert.ok(d.answer.status >= 200 && d.answer.status < 500);
        if (d.ok) {
          const refreshed = refreshSubscription(d.subscription, { ...r, headers: [...headers.slice(0, 2), { name: 'to', value: '<sip:r@x>;tag=t' }, headers[3], { name: 'cseq', value: '2 SUBSCRIBE' }, ...headers.slice(5)] }, { package: CONFERENCE_EVENT, now: T0 });
          assert.ok(refreshed.answer.status >= 200);
          buildNotify(d.subscription, { now: T0, contact: 'sip:c', body: 'x' });
        }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
