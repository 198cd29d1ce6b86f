import { after, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import pino from 'pino';
import { SimulatedClock } from '../../../src/clock.js';
import type { SipRequest } from '../../../src/transport/sip/message.js';
import { Registrar, requestToContact, type RegistrationEvent } from '../../../src/transport/sip/registrar.js';
import { RegistrationStore, type Binding } from '../../../src/transport/sip/registrationStore.js';

const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'parley-reg-'));
const env: RootDatabase = open({ path: dir });
after(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function register(contacts: string[], opts: { expires?: string; callId?: string; cseq?: number; path?: string[]; supported?: string } = {}): SipRequest {
  return {
    kind: 'request',
    method: 'REGISTER',
    uri: 'sip:example.com',
    headers: [
      { name: 'via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1' },
      { name: 'from', value: '<sip:alice@example.com>;tag=1' },
      { name: 'to', value: '<sip:alice@Example.COM>' },
      { name: 'call-id', value: opts.callId ?? 'reg-1' },
      { name: 'cseq', value: `${opts.cseq ?? 1} REGISTER` },
      ...contacts.map((value) => ({ name: 'contact', value })),
      ...(opts.expires !== undefined ? [{ name: 'expires', value: opts.expires }] : []),
      ...(opts.path ?? []).map((value) => ({ name: 'path', value })),
      ...(opts.supported ? [{ name: 'supported', value: opts.supported }] : []),
    ],
    body: Buffer.alloc(0),
  };
}

async function until(p: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !p(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(p(), 'condition not reached');
}

describe('registrar', () => {
  let clock: SimulatedClock;
  let store: RegistrationStore;
  let reg: Registrar;
  let events: RegistrationEvent[];

  beforeEach(async () => {
    const db = env.openDB<Binding, (string | number)[]>({ name: `registrations-${n++}` });
    clock = new SimulatedClock(1_000_000);
    store = new RegistrationStore(db);
    reg = new Registrar({ store, clock, logger, minExpires: 60, maxExpires: 3600 });
    events = [];
    reg.events.on((e) => events.push(e));
  });

  it('stores several contacts of one AoR and lists them all in the 200 with their expiry', async () => {
    const r = await reg.process(register(['<sip:alice@192.0.2.1:5060>;expires=120', '<sip:alice@192.0.2.2:5070>;q=0.5'], { expires: '600' }));
    assert.equal(r.status, 200);
    const contacts = r.headers.filter((h) => h.name === 'contact').map((h) => h.value);
    assert.deepEqual(contacts.sort(), ['<sip:alice@192.0.2.1:5060>;expires=120', '<sip:alice@192.0.2.2:5070>;expires=600;q=0.5']);
    assert.deepEqual(reg.lookup('sip:alice@example.com').map((b) => b.uri).sort(), ['sip:alice@192.0.2.1:5060', 'sip:alice@192.0.2.2:5070']);
    assert.deepEqual(events.map((e) => [e.type, e.aor, e.contacts.length]), [['online', 'sip:alice@example.com', 2]]);
  });

  it('refreshes a binding without publishing, and expires it by the clock', async () => {
    await reg.process(register(['<sip:alice@192.0.2.1>'], { expires: '60' }));
    clock.advance(50_000);
    const r = await reg.process(register(['<sip:alice@192.0.2.1>'], { expires: '60', cseq: 2 }));
    assert.equal(r.status, 200);
    assert.equal(events.length, 1, 'refresh is not a new online event');
    clock.advance(59_000); // 109 s after the first REGISTER: still valid thanks to the refresh
    assert.equal(reg.lookup('sip:alice@example.com').length, 1);
    clock.advance(1_000);
    await until(() => events.length === 2);
    assert.deepEqual(events[1], { type: 'offline', aor: 'sip:alice@example.com', contacts: [] });
    assert.equal(store.list('sip:alice@example.com').length, 0);
  });

  it('removes one contact with expires=0 and the AoR goes offline with the last one', async () => {
    await reg.process(register(['<sip:alice@192.0.2.1>', '<sip:alice@192.0.2.2>']));
    const r = await reg.process(register(['<sip:alice@192.0.2.1>;expires=0'], { cseq: 2 }));
    assert.deepEqual(r.headers.filter((h) => h.name === 'contact').map((h) => h.value), ['<sip:alice@192.0.2.2>;expires=3600']);
    assert.equal(events.length, 1);
    await reg.process(register(['<sip:alice@192.0.2.2>'], { cseq: 3, expires: '0' }));
    assert.deepEqual(events.map((e) => e.type), ['online', 'offline']);
  });

  it('removes every binding with Contact: * and Expires: 0, and refuses * otherwise', async () => {
    await reg.process(register(['<sip:alice@192.0.2.1>', '<sip:alice@192.0.2.2>']));
    assert.equal((await reg.process(register(['*'], { cseq: 2 }))).status, 400);
    assert.equal((await reg.process(register(['*', '<sip:alice@192.0.2.3>'], { cseq: 2, expires: '0' }))).status, 400);
    const r = await reg.process(register(['*'], { cseq: 3, expires: '0' }));
    assert.equal(r.status, 200);
    assert.equal(r.headers.filter((h) => h.name === 'contact').length, 0);
    assert.equal(reg.lookup('sip:alice@example.com').length, 0);
    assert.deepEqual(events.map((e) => e.type), ['online', 'offline']);
  });

  it('answers 423 with Min-Expires for too short an expiry and shortens too long ones', async () => {
    const r = await reg.process(register(['<sip:alice@192.0.2.1>'], { expires: '30' }));
    assert.equal(r.status, 423);
    assert.deepEqual(r.headers, [{ name: 'min-expires', value: '60' }]);
    assert.equal(store.list('sip:alice@example.com').length, 0, 'nothing stored');
    const long = await reg.process(register(['<sip:alice@192.0.2.1>;expires=99999']));
    assert.deepEqual(long.headers.filter((h) => h.name === 'contact').map((h) => h.value), ['<sip:alice@192.0.2.1>;expires=3600']);
  });

  it('stores Path, echoes it when supported, and routes requests to the contact through it', async () => {
    const r = await reg.process(register(['<sip:alice@10.1.1.1>'], { path: ['<sip:edge.example.com;lr>'], supported: 'path' }));
    assert.deepEqual(r.headers.filter((h) => h.name === 'path').map((h) => h.value), ['<sip:edge.example.com;lr>']);
    const [b] = reg.lookup('sip:alice@example.com');
    assert.deepEqual(b.path, ['<sip:edge.example.com;lr>']);
    const out = requestToContact(b, 'MESSAGE', [{ name: 'content-type', value: 'text/plain' }], 'hi');
    assert.equal(out.uri, 'sip:alice@10.1.1.1');
    assert.deepEqual(out.headers[0], { name: 'route', value: '<sip:edge.example.com;lr>' });
  });

  it('refuses an out-of-order CSeq on the same Call-ID with 500 and keeps the binding', async () => {
    await reg.process(register(['<sip:alice@192.0.2.1>'], { cseq: 5 }));
    const r = await reg.process(register(['<sip:alice@192.0.2.1>'], { cseq: 4, expires: '0' }));
    assert.equal(r.status, 500);
    assert.equal(reg.lookup('sip:alice@example.com').length, 1);
  });

  it('re-arms expiry from the store after a restart', async () => {
    await reg.process(register(['<sip:alice@192.0.2.1>'], { expires: '60' }));
    reg.close();
    const again = new Registrar({ store, clock, logger });
    const seen: RegistrationEvent[] = [];
    again.events.on((e) => seen.push(e));
    again.start();
    clock.advance(60_000);
    await until(() => seen.length === 1);
    assert.equal(seen[0].type, 'offline');
  });
});
