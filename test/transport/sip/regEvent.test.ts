import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseReginfo, reginfoFromNotify, RegEventTracker } from '../../../src/transport/sip/regEvent.js';
import type { SipRequest } from '../../../src/transport/sip/message.js';

// RFC 3680 section 6 example, shortened.
const full = (version: number, contactState = 'active') => `<?xml version="1.0"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="${version}" state="full">
  <registration aor="sip:user@Example.com" id="as9" state="active">
    <contact id="76" state="${contactState}" event="registered" expires="3600">
      <uri>sip:user@pc887.example.com</uri>
    </contact>
    <contact id="77" state="terminated" event="expired" duration-registered="2">
      <uri>sip:user@university.edu</uri>
    </contact>
  </registration>
</reginfo>`;

const partial = (version: number, id: string, state: string, uri = 'sip:user@phone.example.com', regState = 'active') => `<?xml version="1.0"?>
<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="${version}" state="partial">
  <registration aor="sip:user@example.com" id="as9" state="${regState}">
    <contact id="${id}" state="${state}" event="${state === 'active' ? 'created' : 'unregistered'}"><uri>${uri}</uri></contact>
  </registration>
</reginfo>`;

describe('reginfo parsing', () => {
  it('reads version, state, registrations and contacts with a canonical AoR', () => {
    const r = parseReginfo(full(0));
    assert.equal(r.version, 0);
    assert.equal(r.state, 'full');
    assert.equal(r.registrations[0].aor, 'sip:user@example.com');
    assert.deepEqual(r.registrations[0].contacts[0], { id: '76', state: 'active', event: 'registered', uri: 'sip:user@pc887.example.com', expires: 3600 });
    assert.equal(r.registrations[0].contacts[1].state, 'terminated');
  });

  it('refuses a DOCTYPE (no entity expansion), garbage and wrong roots with 400', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><reginfo version="0" state="full"/>';
    for (const text of [bomb, '<reginfo', '<foo/>', '<reginfo version="x" state="full"/>', '<reginfo version="1" state="odd"/>']) {
      assert.throws(() => parseReginfo(text), (e: unknown) => (e as { status: number }).status === 400, text);
    }
  });

  it('refuses a document over the size limit with 413', () => {
    assert.throws(() => parseReginfo(full(0), { maxBytes: 100, maxContacts: 10, maxRegistrations: 10 }), (e: unknown) => (e as { status: number }).status === 413);
  });

  it('checks the Event and Content-Type of a NOTIFY', () => {
    const notify = (event: string, type: string): SipRequest => ({
      kind: 'request',
      method: 'NOTIFY',
      uri: 'sip:parley@10.0.0.1',
      headers: [{ name: 'event', value: event }, { name: 'content-type', value: type }],
      body: Buffer.from(full(1)),
    });
    assert.equal(reginfoFromNotify(notify('reg', 'application/reginfo+xml')).version, 1);
    assert.throws(() => reginfoFromNotify(notify('presence', 'application/reginfo+xml')), (e: unknown) => (e as { status: number }).status === 489);
    assert.throws(() => reginfoFromNotify(notify('reg', 'text/plain')), (e: unknown) => (e as { status: number }).status === 415);
  });
});

describe('reg event tracker', () => {
  it('publishes online from a full document, then offline when a partial terminates the last contact', () => {
    const t = new RegEventTracker(() => 0);
    const a = t.apply(parseReginfo(full(0)));
    assert.deepEqual(a.events, [{ type: 'online', aor: 'sip:user@example.com', contacts: [{ uri: 'sip:user@pc887.example.com', path: [], expiresAt: 3_600_000 }] }]);
    const b = t.apply(parseReginfo(partial(1, '78', 'active')));
    assert.equal(b.events[0].type, 'online');
    assert.equal(b.events[0].contacts.length, 2);
    assert.deepEqual(t.apply(parseReginfo(partial(2, '78', 'terminated'))).events, []);
    const d = t.apply(parseReginfo(full(3, 'terminated')));
    assert.deepEqual(d.events, [{ type: 'offline', aor: 'sip:user@example.com', contacts: [] }]);
  });

  it('ignores stale versions and asks for a resync when a partial was missed', () => {
    const t = new RegEventTracker(() => 0);
    t.apply(parseReginfo(full(5)));
    assert.deepEqual(t.apply(parseReginfo(partial(4, '78', 'active'))), { events: [], resync: false });
    assert.deepEqual(t.apply(parseReginfo(partial(7, '78', 'active'))), { events: [], resync: true });
    assert.equal(t.apply(parseReginfo(full(8))).resync, false);
  });

  it('treats a terminated registration as offline', () => {
    const t = new RegEventTracker(() => 0);
    t.apply(parseReginfo(full(0)));
    const r = t.apply(parseReginfo(partial(1, '76', 'active', 'sip:user@pc887.example.com', 'terminated')));
    assert.deepEqual(r.events.map((e) => e.type), ['offline']);
  });
});
