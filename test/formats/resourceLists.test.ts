import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { buildResourceLists, parseResourceLists, type ResourceListEntry } from '../../src/formats/resourceLists.js';

// RFC 5366 section 5 example body (the resource-lists part of the multipart INVITE).
const RFC5366 = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"
   xmlns:cp="urn:ietf:params:xml:ns:copycontrol">
  <list>
    <entry uri="sip:bill@example.com" cp:copyControl="to" />
    <entry uri="sip:randy@example.net" cp:copyControl="to" cp:anonymize="true"/>
    <entry uri="sip:eddy@example.com" cp:copyControl="to" cp:anonymize="true"/>
    <entry uri="sip:joe@example.org" cp:copyControl="cc" />
    <entry uri="sip:carol@example.net" cp:copyControl="cc" cp:anonymize="true"/>
    <entry uri="sip:ted@example.net" cp:copyControl="bcc" />
    <entry uri="sip:andy@example.com" cp:copyControl="bcc" />
  </list>
</resource-lists>`;

describe('resource-lists', () => {
  it('reads the RFC 5366 example in order with copy control', () => {
    const r = parseResourceLists(RFC5366);
    assert.ok(!(r instanceof ProtocolError), String(r));
    assert.deepEqual(r.entries.map((e) => e.uri), [
      'sip:bill@example.com', 'sip:randy@example.net', 'sip:eddy@example.com', 'sip:joe@example.org', 'sip:carol@example.net', 'sip:ted@example.net', 'sip:andy@example.com',
    ]);
    assert.deepEqual(r.entries[1], { uri: 'sip:randy@example.net', copyControl: 'to', anonymize: true });
    assert.equal(r.entries[6].copyControl, 'bcc');
    assert.equal(r.skippedReferences, 0);
  });

  it('flattens nested lists, keeps display names, drops duplicates, skips references', () => {
    const x = `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
      <list name="friends">
        <entry uri="sip:a@x"><display-name>Ann &amp; co</display-name></entry>
        <entry-ref ref="resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22list1%22%5d/entry%5b1%5d"/>
        <list name="close"><entry uri="sip:b@x"/><entry uri="sip:a@x"/><external anchor="http://xcap.example.org/x"/></list>
      </list>
      <list><entry uri="tel:+15551234"/></list>
    </resource-lists>`;
    const r = parseResourceLists(x);
    assert.ok(!(r instanceof ProtocolError), String(r));
    assert.deepEqual(r.entries, [{ uri: 'sip:a@x', displayName: 'Ann & co' }, { uri: 'sip:b@x' }, { uri: 'tel:+15551234' }]);
    assert.equal(r.skippedReferences, 2);
  });

  it('accepts an empty document', () => {
    assert.deepEqual(parseResourceLists('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>'), { entries: [], skippedReferences: 0 });
    assert.deepEqual(parseResourceLists('<resource-lists><list/></resource-lists>'), { entries: [], skippedReferences: 0 });
  });

  it('refuses malformed documents with 400', () => {
    for (const bad of [
      '<other/>',
      '<resource-lists><list><entry/></list></resource-lists>',
      '<resource-lists><list><entry uri="not a uri"/></list></resource-lists>',
      '<resource-lists><list><entry uri="sip:a@b" cp:copyControl="xx"/></list></resource-lists>',
      '<resource-lists><list><entry uri="sip:a@b"></list></resource-lists>',
      '<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><resource-lists><list><entry uri="&e;"/></list></resource-lists>',
      '<resource-lists>' + '<list>'.repeat(6) + '<entry uri="sip:a@b"/>' + '</list>'.repeat(6) + '</resource-lists>',
    ]) {
      const r = parseResourceLists(bad);
      assert.ok(r instanceof ProtocolError, bad);
      assert.equal(r.status, 400, bad);
    }
  });

  it('answers 413 over the entry and size limits; duplicates do not count', () => {
    const entries = Array.from({ length: 101 }, (_, i) => ({ uri: `sip:u${i}@example.com` }));
    const r = parseResourceLists(buildResourceLists(entries));
    assert.ok(r instanceof ProtocolError && r.status === 413 && r.code === 'RESOURCE_LISTS_TOO_MANY');
    const dup = parseResourceLists(buildResourceLists([...entries.slice(0, 100), { uri: 'sip:u0@example.com' }]));
    assert.ok(!(dup instanceof ProtocolError));
    const big = parseResourceLists(buildResourceLists(entries), { maxBytes: 1000 });
    assert.ok(big instanceof ProtocolError && big.status === 413);
    const longUri = parseResourceLists(buildResourceLists([{ uri: 'sip:' + 'a'.repeat(600) + '@x' }]));
    assert.ok(longUri instanceof ProtocolError && longUri.status === 400);
  });

  it('parse(build(entries)) gives the distinct entries back', () => {
    const entry: fc.Arbitrary<ResourceListEntry> = fc
      .record({
        uri: fc.stringMatching(/^sip:[a-z0-9._&'-]{1,10}@[a-z]{1,8}\.example$/),
        displayName: fc.option(fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e\u00e9]{0,20}[\x21-\x7e])?$/), { nil: undefined }),
        copyControl: fc.option(fc.constantFrom('to' as const, 'cc' as const, 'bcc' as const), { nil: undefined }),
        anonymize: fc.option(fc.boolean(), { nil: undefined }),
      })
      .map((e) => ({ ...Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined)) }) as unknown as ResourceListEntry);
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.uri, maxLength: 20 }), (list) => {
        const r = parseResourceLists(buildResourceLists(list));
        assert.ok(!(r instanceof ProtocolError), String(r));
        assert.deepEqual(r.entries, list);
      }),
      { numRuns: 200 },
    );
  });
});
