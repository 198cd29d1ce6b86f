// The notifier functions of subscription.ts over two real embedded stacks on 127.0.0.1:
// one plays a room serving `Event: conference`, the other a subscriber. SUBSCRIBE -> 200 +
// NOTIFY, refresh -> 200 + NOTIFY, unsubscribe -> 200 + NOTIFY terminated;reason=timeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { createSipStack, type SipStack } from '../../../src/transport/sip/stack.js';
import type { IncomingRequest } from '../../../src/transport/sip/transport.js';
import type { SipRequest, SipResponse } from '../../../src/transport/sip/message.js';
import { getHeader } from '../../../src/transport/sip/headers.js';
import { buildInDialogRequest, createUacDialog, dialogIdOfRequest, dialogKey, type DialogState } from '../../../src/transport/sip/dialog.js';
import {
  CONFERENCE_EVENT, acceptSubscribe, buildNotify, onNotifyResponse, refreshSubscription, subscriptionDialogKey, type Subscription,
} from '../../../src/transport/sip/subscription.js';

const logger = pino({ level: 'silent' });

describe('event subscription over the embedded stack', () => {
  let notifier: SipStack;
  let subscriber: SipStack;
  let now = Date.UTC(2026, 11, 1, 12, 0, 0);
  const subs = new Map<string, Subscription>();
  const notifies: SipRequest[] = [];
  const notifyAnswers: number[] = [];
  let waiters: Array<() => void> = [];

  /** The room's handler: what an actor's effects would do, inline. */
  function notify(sub: Subscription, body?: (v: number) => string): void {
    const n = buildNotify(sub, { now, contact: notifier.contactUri(), body });
    if (n.subscription.state === 'terminated') subs.delete(subscriptionDialogKey(sub));
    else subs.set(subscriptionDialogKey(sub), n.subscription);
    void notifier.sendRequest(n.request, { dialog: n.subscription.dialog }).then((res) => {
      notifyAnswers.push(res.status);
      if (onNotifyResponse(res.status) === 'remove') subs.delete(subscriptionDialogKey(sub));
    });
  }

  function onRoomRequest(r: IncomingRequest): void {
    if (r.request.method !== 'SUBSCRIBE') return r.respond(405);
    const id = r.dialogId;
    if (id === undefined) {
      const d = acceptSubscribe(r.request, { packages: [CONFERENCE_EVENT], localTag: r.localTag, now });
      r.respond(d.answer.status, d.answer.reason, { headers: d.answer.headers });
      if (d.ok) notify(d.subscription, (v) => `<conference-info version="${v}"/>`);
      return;
    }
    const sub = subs.get(dialogKey(id));
    if (!sub) return r.respond(481);
    const d = refreshSubscription(sub, r.request, { package: CONFERENCE_EVENT, now });
    r.respond(d.answer.status, d.answer.reason, { headers: d.answer.headers });
    if (d.ok) notify(d.subscription, (v) => `<conference-info version="${v}"/>`);
  }

  before(async () => {
    notifier = await createSipStack({ host: '127.0.0.1', port: 0, logger });
    subscriber = await createSipStack({ host: '127.0.0.1', port: 0, logger });
    notifier.onRequest(onRoomRequest);
    subscriber.onRequest((r) => {
      if (r.request.method === 'NOTIFY' && dialogIdOfRequest(r.request)) {
        notifies.push(r.request);
        r.respond(200);
      } else r.respond(481);
      for (const w of waiters.splice(0)) w();
    });
  });
  after(async () => {
    await subscriber.close();
    await notifier.close();
  });

  async function waitNotifies(n: number): Promise<void> {
    const end = Date.now() + 3000;
    while (notifies.length < n) {
      if (Date.now() > end) throw new Error(`timeout waiting for NOTIFY ${n}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  let dialog: DialogState;
  const room = () => `sip:room@127.0.0.1:${notifier.ports.udp}`;

  it('SUBSCRIBE gets 200 with Expires and a NOTIFY active with the full state', async () => {
    const sub: SipRequest = {
      kind: 'request',
      method: 'SUBSCRIBE',
      uri: room(),
      headers: [
        { name: 'from', value: `<sip:alice@127.0.0.1>;tag=al1` },
        { name: 'to', value: `<${room()}>` },
        { name: 'call-id', value: 'stack-sub-1' },
        { name: 'cseq', value: '1 SUBSCRIBE' },
        { name: 'contact', value: `<${subscriber.contactUri()}>` },
        { name: 'event', value: 'conference' },
        { name: 'expires', value: '600' },
        { name: 'accept', value: 'application/conference-info+xml' },
      ],
      body: Buffer.alloc(0),
    };
    const res: SipResponse = await subscriber.sendRequest(sub);
    assert.equal(res.status, 200);
    assert.equal(getHeader(res, 'expires'), '600');
    dialog = createUacDialog(sub, res);
    await waitNotifies(1);
    const n = notifies[0];
    assert.equal(getHeader(n, 'event'), 'conference');
    assert.equal(getHeader(n, 'subscription-state'), 'active;expires=600');
    assert.equal(getHeader(n, 'content-type'), 'application/conference-info+xml');
    assert.equal(n.body.toString(), '<conference-info version="1"/>');
    assert.equal(dialogIdOfRequest(n)?.localTag, 'al1');
  });

  it('another package gets 489 with Allow-Events', async () => {
    const res = await subscriber.sendRequest({
      method: 'SUBSCRIBE',
      uri: room(),
      headers: [{ name: 'event', value: 'presence' }, { name: 'contact', value: `<${subscriber.contactUri()}>` }],
    });
    assert.equal(res.status, 489);
    assert.equal(getHeader(res, 'allow-events'), 'conference');
  });

  it('a refresh gets 200 and a NOTIFY with the new duration and the next version', async () => {
    now += 100_000;
    const built = buildInDialogRequest(dialog, 'SUBSCRIBE', {
      headers: [
        { name: 'event', value: 'conference' },
        { name: 'expires', value: '1200' },
        { name: 'contact', value: `<${subscriber.contactUri()}>` },
      ],
    });
    dialog = built.dialog;
    const res = await subscriber.sendRequest(built.request, { dialog });
    assert.equal(res.status, 200);
    assert.equal(getHeader(res, 'expires'), '1200');
    await waitNotifies(2);
    assert.equal(getHeader(notifies[1], 'subscription-state'), 'active;expires=1200');
    assert.equal(notifies[1].body.toString(), '<conference-info version="2"/>');
  });

  it('an unsubscribe gets 200 Expires 0 and a final NOTIFY terminated;reason=timeout, then 481', async () => {
    const built = buildInDialogRequest(dialog, 'SUBSCRIBE', {
      headers: [
        { name: 'event', value: 'conference' },
        { name: 'expires', value: '0' },
      ],
    });
    dialog = built.dialog;
    const res = await subscriber.sendRequest(built.request, { dialog });
    assert.equal(res.status, 200);
    assert.equal(getHeader(res, 'expires'), '0');
    await waitNotifies(3);
    assert.equal(getHeader(notifies[2], 'subscription-state'), 'terminated;reason=timeout');
    assert.equal(subs.size, 0);
    const again = buildInDialogRequest(dialog, 'SUBSCRIBE', { headers: [{ name: 'event', value: 'conference' }] });
    assert.equal((await subscriber.sendRequest(again.request, { dialog: again.dialog })).status, 481);
    const end = Date.now() + 2000;
    while (notifyAnswers.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(notifyAnswers, [200, 200, 200]);
  });
});
