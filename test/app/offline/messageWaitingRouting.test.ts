/**
 * Which SUBSCRIBEs the message-waiting notifier takes and whose mailbox they may watch, with a
 * fake request and dispatcher: `Sylk-App: textmail` or the Message-Account as Request-URI;
 * another Event is not ours; another user's AoR, or a caller who is not local, gets 403;
 * P-Asserted-Identity counts only when requests come from trusted proxies.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import { MessageWaiting } from '../../../src/app/offline/messageWaiting.js';
import type { IncomingRequest, RespondOptions } from '../../../src/transport/sip/transport.js';
import type { SipHeader } from '../../../src/transport/sip/message.js';
import type { MailboxStore } from '../../../src/actors/mailboxStore.js';

function request(uri: string, headers: Record<string, string>, dialog = false): IncomingRequest & { answers: number[] } {
  const h: SipHeader[] = [
    { name: 'via', value: 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1' },
    { name: 'call-id', value: 'c1' },
    { name: 'cseq', value: '1 SUBSCRIBE' },
    { name: 'contact', value: '<sip:x@127.0.0.1:5070>' },
    { name: 'to', value: `<${uri}>${dialog ? ';tag=lt' : ''}` },
    ...Object.entries(headers).map(([name, value]) => ({ name, value })),
  ];
  const answers: number[] = [];
  return {
    request: { kind: 'request', method: 'SUBSCRIBE', uri, headers: h, body: Buffer.alloc(0) },
    source: { host: '127.0.0.1', port: 5070, transport: 'udp' },
    ...(dialog ? { dialogId: { callId: 'c1', localTag: 'lt', remoteTag: 'ft' } } : {}),
    localTag: 'lt',
    answered: false,
    cancelled: false,
    respond(status: number, _reason?: string, _o?: RespondOptions) {
      answers.push(status);
    },
    answers,
  };
}

function notifier(trustAsserted: boolean) {
  const dispatched: Array<{ kind: string; key: string; type: string }> = [];
  const mw = new MessageWaiting({
    sip: {} as never,
    clock: new SimulatedClock(),
    logger: pino({ level: 'silent' }),
    domains: ['parley.example'],
    dispatcher: () => ({
      dispatch: async (kind, key, event) => {
        dispatched.push({ kind, key, type: event.type });
        return 'ok';
      },
      peek: () => undefined,
    }),
    mailboxStore: { summary: () => ({ newCount: 0, oldCount: 0 }) } as unknown as MailboxStore,
    account: 'sip:offline@parley.example',
    trustAsserted,
  });
  return { mw, dispatched };
}

const BOB = 'sip:bob@parley.example';

describe('message-waiting routing', () => {
  it('takes Sylk-App: textmail and the Message-Account, not other events or unmarked SUBSCRIBEs', () => {
    const { mw } = notifier(false);
    assert.ok(mw.accepts(request(BOB, { event: 'message-summary', 'sylk-app': 'textmail', from: `<${BOB}>;tag=ft` })));
    assert.ok(mw.accepts(request('sip:offline@parley.example', { event: 'message-summary', from: `<${BOB}>;tag=ft` })));
    assert.ok(!mw.accepts(request(BOB, { event: 'message-summary', from: `<${BOB}>;tag=ft` })), 'unmarked: a voicemail server may own it');
    assert.ok(!mw.accepts(request(BOB, { event: 'conference', 'sylk-app': 'textmail', from: `<${BOB}>;tag=ft` })));
    assert.ok(mw.accepts(request(BOB, { event: 'message-summary', from: `<${BOB}>;tag=ft` }, true)), 'a refresh in a dialog');
  });

  it('a subscriber watches only its own mailbox', async () => {
    const { mw, dispatched } = notifier(false);
    const own = request(BOB, { event: 'message-summary', 'sylk-app': 'textmail', from: `<${BOB}>;tag=ft` });
    await mw.handle(own);
    assert.deepEqual(dispatched, [{ kind: 'mwi', key: BOB, type: 'SUBSCRIBE_RECEIVED' }]);
    const other = request(BOB, { event: 'message-summary', 'sylk-app': 'textmail', from: '<sip:carol@parley.example>;tag=ft' });
    await mw.handle(other);
    assert.deepEqual(other.answers, [403]);
    const foreign = request('sip:offline@parley.example', { event: 'message-summary', from: '<sip:alice@example.com>;tag=ft' });
    await mw.handle(foreign);
    assert.deepEqual(foreign.answers, [403]);
    assert.equal(dispatched.length, 1);
  });

  it('P-Asserted-Identity is believed only from trusted proxies', async () => {
    const claim = { event: 'message-summary', from: '<sip:carol@parley.example>;tag=ft', 'p-asserted-identity': `<${BOB}>` };
    const untrusted = notifier(false);
    await untrusted.mw.handle(request('sip:offline@parley.example', claim));
    assert.equal(untrusted.dispatched[0]?.key, 'sip:carol@parley.example');
    const trusted = notifier(true);
    await trusted.mw.handle(request('sip:offline@parley.example', claim));
    assert.equal(trusted.dispatched[0]?.key, BOB);
  });
});
