import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { decodeXmlText, escapeXml, parseXmlSafely } from '../../src/formats/xml.js';

test('parses attributes, strips namespace prefixes and decodes predefined entities', () => {
  const r = parseXmlSafely('<c:a xmlns:c="urn:x" c:k="1 &amp; 2"><c:b>x &lt; y &#x263A;</c:b></c:a>');
  assert.ok(!(r instanceof ProtocolError));
  assert.deepEqual(r, { a: { '@_k': '1 & 2', b: 'x < y \u263a' } });
});

test('refuses any DOCTYPE (no entity declarations, no external entities)', () => {
  const r = parseXmlSafely('<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>&xxe;</a>');
  assert.ok(r instanceof ProtocolError);
  assert.equal(r.code, 'XML_DOCTYPE');
});

test('refuses documents over maxBytes with 413 and deeper than maxDepth with 400', () => {
  const big = parseXmlSafely(`<a>${'x'.repeat(200)}</a>`, { maxBytes: 100 });
  assert.ok(big instanceof ProtocolError && big.status === 413);
  const deep = parseXmlSafely('<a>'.repeat(40) + '</a>'.repeat(40), { maxDepth: 32 });
  assert.ok(deep instanceof ProtocolError && deep.code === 'XML_TOO_DEEP');
});

test('malformed XML is a 400, never a throw', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const r = parseXmlSafely(`<a>${s}`);
      assert.ok(r instanceof ProtocolError || typeof r === 'object');
    }),
  );
  const r = parseXmlSafely('<a><b></a>');
  assert.ok(r instanceof ProtocolError && r.status === 400);
});

test('escapeXml and decodeXmlText are inverse', () => {
  fc.assert(fc.property(fc.string(), (s) => assert.equal(decodeXmlText(escapeXml(s)), s)));
});

test('arrays option forces repeated-or-single elements into arrays', () => {
  const r = parseXmlSafely('<r><u id="1"/></r>', { arrays: ['u'] });
  assert.ok(!(r instanceof ProtocolError));
  assert.deepEqual(r, { r: { u: [{ '@_id': '1' }] } });
});
