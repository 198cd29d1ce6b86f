import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import {
  buildConferenceInfo, parseConferenceInfo, partialConferenceInfo, type ConferenceInfo, type ConferenceUser,
} from '../../src/formats/conferenceInfo.js';

// Shaped after the RFC 4575 section 6 basic example, with a prefixed namespace and
// elements Parley does not model (host-info, call-info, sidebars) that must be ignored.
const RFC_STYLE = `<?xml version="1.0" encoding="UTF-8"?>
<ci:conference-info xmlns:ci="urn:ietf:params:xml:ns:conference-info"
    entity="sips:conf233@example.com" state="full" version="1">
  <ci:conference-description>
    <ci:subject>Agenda: This month's goals</ci:subject>
    <ci:service-uris>
      <ci:entry>
        <ci:uri>http://sharepoint/salesgroup/</ci:uri>
        <ci:purpose>web-page</ci:purpose>
      </ci:entry>
    </ci:service-uris>
  </ci:conference-description>
  <ci:host-info><ci:uris><ci:entry><ci:uri>sip:host@example.com</ci:uri></ci:entry></ci:uris></ci:host-info>
  <ci:conference-state>
    <ci:user-count>33</ci:user-count>
  </ci:conference-state>
  <ci:users>
    <ci:user entity="sip:bob@example.com" state="full">
      <ci:display-text>Bob Hoskins</ci:display-text>
      <ci:endpoint entity="sip:bob@pc33.example.com">
        <ci:display-text>Bob's Laptop</ci:display-text>
        <ci:status>disconnected</ci:status>
        <ci:disconnection-method>departed</ci:disconnection-method>
        <ci:disconnection-info>
          <ci:when>2005-03-04T20:00:00Z</ci:when>
          <ci:reason>bad voice quality</ci:reason>
          <ci:by>sip:mike@example.com</ci:by>
        </ci:disconnection-info>
        <ci:media id="1">
          <ci:display-text>main audio</ci:display-text>
          <ci:type>audio</ci:type>
          <ci:label>34567</ci:label>
          <ci:src-id>432424</ci:src-id>
          <ci:status>sendrecv</ci:status>
        </ci:media>
        <ci:call-info><ci:sip><ci:call-id>x</ci:call-id></ci:sip></ci:call-info>
      </ci:endpoint>
    </ci:user>
    <ci:user entity="sip:alice@example.com"><ci:display-text xml:lang="en">Alice</ci:display-text></ci:user>
  </ci:users>
</ci:conference-info>`;

const room: ConferenceInfo = {
  entity: 'sip:dev@conf.example.com',
  state: 'full',
  version: 1,
  description: {
    displayText: 'Developers',
    subject: 'Release <1.0> & "friends"',
    confUris: [{ uri: 'sip:dev@conf.example.com', displayText: 'chat', purpose: 'participation' }],
  },
  conferenceState: { userCount: 2, active: true, locked: false },
  users: [
    {
      entity: 'sip:alice@example.com',
      state: 'full',
      displayText: 'alice',
      roles: ['participant'],
      endpoints: [
        {
          entity: 'sip:alice@192.0.2.1:5060',
          status: 'connected',
          joiningMethod: 'dialed-in',
          joiningInfo: { when: '2026-12-01T12:00:00Z' },
          media: [{ id: '1', type: 'message', status: 'sendrecv' }],
        },
      ],
    },
    { entity: 'sip:bob@example.com', state: 'full', displayText: "Bob <'the builder'>", endpoints: [{ entity: 'sip:bob@192.0.2.2', status: 'pending' }] },
  ],
};

describe('conference-info parse', () => {
  it('reads the RFC 4575 style example, ignoring unmodelled elements and prefixes', () => {
    const d = parseConferenceInfo(RFC_STYLE);
    assert.ok(!(d instanceof ProtocolError), String(d));
    assert.equal(d.entity, 'sips:conf233@example.com');
    assert.equal(d.state, 'full');
    assert.equal(d.version, 1);
    assert.equal(d.description?.subject, "Agenda: This month's goals");
    assert.deepEqual(d.description?.serviceUris, [{ uri: 'http://sharepoint/salesgroup/', purpose: 'web-page' }]);
    assert.deepEqual(d.conferenceState, { userCount: 33 });
    assert.equal(d.users?.length, 2);
    const bob = d.users![0];
    assert.equal(bob.displayText, 'Bob Hoskins');
    assert.deepEqual(bob.endpoints?.[0], {
      entity: 'sip:bob@pc33.example.com',
      displayText: "Bob's Laptop",
      status: 'disconnected',
      disconnectionMethod: 'departed',
      disconnectionInfo: { when: '2005-03-04T20:00:00Z', reason: 'bad voice quality', by: 'sip:mike@example.com' },
      media: [{ id: '1', displayText: 'main audio', type: 'audio', label: '34567', srcId: '432424', status: 'sendrecv' }],
    });
    assert.equal(d.users![1].displayText, 'Alice');
  });

  it('refuses missing entity, bad version, bad state, unknown status, media without id, DOCTYPE with 400', () => {
    const cases = [
      RFC_STYLE.replace('entity="sips:conf233@example.com"', ''),
      RFC_STYLE.replace('version="1"', 'version="x"'),
      RFC_STYLE.replace('state="full" version', 'state="most" version'),
      RFC_STYLE.replace('<ci:status>disconnected', '<ci:status>gone'),
      RFC_STYLE.replace('<ci:media id="1">', '<ci:media>'),
      RFC_STYLE.replace('<ci:user-count>33', '<ci:user-count>-1'),
      RFC_STYLE.replace('<ci:user entity="sip:alice@example.com">', '<ci:user>'),
      '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><conference-info entity="a" version="1"/>',
      '<conference-info entity="a" version="1"><users>',
      '<other/>',
    ];
    for (const c of cases) {
      const r = parseConferenceInfo(c);
      assert.ok(r instanceof ProtocolError, c.slice(0, 80));
      assert.equal(r.status, 400);
    }
  });

  it('answers 413 over the size, user, endpoint and entry limits', () => {
    const big = buildConferenceInfo({
      entity: 'sip:r@x',
      state: 'full',
      version: 1,
      users: Array.from({ length: 5 }, (_, i) => ({ entity: `sip:u${i}@x`, endpoints: [{ entity: `sip:u${i}@h`, media: [{ id: '1' }, { id: '2' }] }] })),
    });
    for (const limits of [{ maxBytes: 100 }, { maxUsers: 4 }, { maxEndpoints: 4 }, { maxEntries: 9 }]) {
      const r = parseConferenceInfo(big, limits);
      assert.ok(r instanceof ProtocolError, JSON.stringify(limits));
      assert.equal(r.status, 413, JSON.stringify(limits));
    }
    assert.ok(!(parseConferenceInfo(big, { maxUsers: 5, maxEndpoints: 5, maxEntries: 10 }) instanceof ProtocolError));
  });
});

describe('conference-info build', () => {
  it('writes a full document in schema order with the namespace, and reads back the same', () => {
    const x = buildConferenceInfo(room);
    assert.match(x, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:dev@conf.example.com" state="full" version="1">/);
    const order = ['<conference-description>', '<display-text>Developers', '<subject>', '<conf-uris>', '<conference-state>', '<user-count>2', '<active>true', '<locked>false', '<users>', '<user entity="sip:alice', '<roles>', '<endpoint', '<status>connected', '<joining-method>', '<joining-info>', '<media id="1">', '<type>message'];
    let at = -1;
    for (const o of order) {
      const i = x.indexOf(o, at + 1);
      assert.ok(i > at, `${o} after the previous`);
      at = i;
    }
    assert.deepEqual(parseConferenceInfo(x), room);
  });

  it('escapes nicknames, subjects and URIs', () => {
    const x = buildConferenceInfo(room);
    assert.ok(x.includes('<subject>Release &lt;1.0&gt; &amp; &quot;friends&quot;</subject>'));
    assert.ok(x.includes('<display-text>Bob &lt;&apos;the builder&apos;&gt;</display-text>'));
    const evil = buildConferenceInfo({ entity: 'sip:r@x"><x y="', state: 'full', version: 1, users: [{ entity: 'sip:a@x', displayText: '</display-text><user entity="sip:fake@x">' }] });
    const d = parseConferenceInfo(evil);
    assert.ok(!(d instanceof ProtocolError));
    assert.equal(d.entity, 'sip:r@x"><x y="');
    assert.equal(d.users?.length, 1);
    assert.equal(d.users?.[0].displayText, '</display-text><user entity="sip:fake@x">');
  });

  it('writes partial documents: one user added, changed, removed, with the version and user-count', () => {
    const alice = room.users![0];
    const added = partialConferenceInfo('sip:dev@conf.example.com', 2, [{ op: 'added', user: alice }], 3);
    const x = buildConferenceInfo(added);
    assert.match(x, /state="partial" version="2"/);
    assert.match(x, /<users state="partial">/);
    assert.match(x, /<user entity="sip:alice@example.com" state="full">/);
    assert.deepEqual(parseConferenceInfo(x), added);
    const removed = buildConferenceInfo(partialConferenceInfo('sip:dev@conf.example.com', 3, [{ op: 'removed', entity: 'sip:bob@example.com' }]));
    assert.match(removed, /<user entity="sip:bob@example.com" state="deleted"\/>/);
    const r = parseConferenceInfo(removed);
    assert.ok(!(r instanceof ProtocolError));
    assert.deepEqual(r.users, [{ entity: 'sip:bob@example.com', state: 'deleted' }]);
    assert.equal(r.conferenceState, undefined);
    const changed = partialConferenceInfo('sip:dev@conf.example.com', 4, [{ op: 'changed', user: { ...alice, displayText: 'ally' } }]);
    assert.equal((parseConferenceInfo(buildConferenceInfo(changed)) as ConferenceInfo).users?.[0].displayText, 'ally');
  });

  it('parse(build(doc)) is doc for generated documents', () => {
    const txt = fc.stringMatching(/^[\x21-\x7e\u00e0-\u00ff\u4e00-\u4e10]([\x20-\x7e\u00e0-\u00ff]{0,20}[\x21-\x7e])?$/);
    const uri = fc.stringMatching(/^sip:[a-z0-9]{1,8}@[a-z]{1,8}\.example$/);
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
    const media = fc.record({ id: fc.stringMatching(/^[0-9]{1,3}$/), type: opt(fc.constantFrom('message', 'audio')), status: opt(fc.constantFrom('sendrecv', 'inactive')), displayText: opt(txt) }).map(strip);
    const endpoint = fc
      .record({
        entity: opt(uri),
        displayText: opt(txt),
        status: opt(fc.constantFrom('pending', 'connected', 'disconnected', 'on-hold' as const)),
        joiningInfo: opt(fc.record({ when: fc.constant('2026-12-01T12:00:00Z') }).map(strip)),
        media: opt(fc.array(media, { minLength: 1, maxLength: 2 })),
      })
      .map(strip);
    const user: fc.Arbitrary<ConferenceUser> = fc
      .record({ entity: uri, displayText: opt(txt), roles: opt(fc.array(txt, { maxLength: 2 })), endpoints: opt(fc.array(endpoint, { minLength: 1, maxLength: 2 })) })
      .map(strip);
    const doc: fc.Arbitrary<ConferenceInfo> = fc
      .record({
        entity: uri,
        state: fc.constant('full' as const),
        version: fc.integer({ min: 0, max: 2 ** 31 }),
        description: opt(fc.record({ subject: opt(txt), displayText: opt(txt) }).map(strip)),
        conferenceState: opt(fc.record({ userCount: opt(fc.nat(1000)), locked: opt(fc.boolean()) }).map(strip)),
        users: opt(fc.array(user, { maxLength: 4 })),
      })
      .map(strip);
    fc.assert(
      fc.property(doc, (d) => {
        assert.deepEqual(parseConferenceInfo(buildConferenceInfo(d)), d);
      }),
      { numRuns: 300 },
    );
  });
});
