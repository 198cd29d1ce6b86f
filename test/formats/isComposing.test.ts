import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../src/errors.js';
import { buildIsComposing, parseIsComposing } from '../../src/formats/isComposing.js';

// RFC 3994 section 7 example (layout), with a namespace prefix to show prefixes are ignored.
const RFC_EXAMPLE = `<?xml version="1.0" encoding="UTF-8"?>
<isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="urn:ietf:params:xml:ns:im-composing iscomposing.xsd">
  <state>idle</state>
  <lastactive>2003-01-27T10:43:00Z</lastactive>
  <contenttype>audio</contenttype>
</isComposing>`;

test('parses the RFC 3994 idle example', () => {
  assert.deepEqual(parseIsComposing(RFC_EXAMPLE), { state: 'idle', lastActive: '2003-01-27T10:43:00Z', contentType: 'audio' });
});

test('build then parse gives the same indication', () => {
  const s = { state: 'active' as const, contentType: 'text/plain', refresh: 90 };
  assert.deepEqual(parseIsComposing(buildIsComposing(s)), s);
});

test('rejects an unknown state, a bad refresh and a DOCTYPE', () => {
  const bad = [
    buildIsComposing({ state: 'active' }).replace('active', 'typing'),
    buildIsComposing({ state: 'active', refresh: 5 }).replace('>5<', '>x<'),
    `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing"><state>&a;</state></isComposing>`,
  ];
  for (const b of bad) {
    const r = parseIsComposing(b);
    assert.ok(r instanceof ProtocolError, b);
    assert.equal(r.status, 400);
  }
});
