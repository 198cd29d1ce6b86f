import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import {
  MESSAGE_CONTEXT_CLASSES, buildMessageSummary, parseMessageSummary, textMessageSummary, type MessageCounts, type MessageSummary,
} from '../../src/formats/messageSummary.js';

// Shaped after the RFC 3842 example bodies: summary lines, blank line, one message's headers.
const RFC3842 =
  'Messages-Waiting: yes\r\n' +
  'Message-Account: sip:alice@vmail.example.com\r\n' +
  'Voice-Message: 4/8 (1/2)\r\n' +
  '\r\n' +
  'To: <alice@atlanta.example.com>\r\n' +
  'From: <bob@biloxi.example.com>\r\n' +
  'Subject: carpool tomorrow?\r\n' +
  'Date: Sun, 09 Mar 2003 23:51:24 +0500\r\n' +
  'Priority: normal\r\n' +
  'Message-ID: 13784434989@vmail.example.com\r\n';

describe('simple-message-summary', () => {
  it('reads the RFC 3842 example with its optional message headers', () => {
    const s = parseMessageSummary(RFC3842);
    assert.ok(!(s instanceof ProtocolError), String(s));
    assert.equal(s.waiting, true);
    assert.equal(s.account, 'sip:alice@vmail.example.com');
    assert.deepEqual(s.counts, { 'voice-message': { newCount: 4, oldCount: 8, newUrgent: 1, oldUrgent: 2 } });
    assert.equal(s.headers?.length, 6);
    assert.deepEqual(s.headers?.[2], { name: 'Subject', value: 'carpool tomorrow?' });
  });

  it('writes the text message-waiting summary of PROTOCOLS.md', () => {
    assert.equal(
      buildMessageSummary(textMessageSummary('sip:offline@parley.example', 2, 0)),
      'Messages-Waiting: yes\r\nMessage-Account: sip:offline@parley.example\r\nText-Message: 2/0 (0/0)\r\n',
    );
    assert.equal(
      buildMessageSummary(textMessageSummary('sip:offline@parley.example', 0, 3)),
      'Messages-Waiting: no\r\nMessage-Account: sip:offline@parley.example\r\nText-Message: 0/3 (0/0)\r\n',
    );
    assert.equal(buildMessageSummary({ waiting: false, counts: { 'text-message': { newCount: 0, oldCount: 0 } } }), 'Messages-Waiting: no\r\nText-Message: 0/0\r\n');
  });

  it('reads names in any case, LF line ends, spaces around counts, and ignores unknown lines', () => {
    const s = parseMessageSummary('messages-waiting: NO\nmessage-account: sip:x@y\ntext-message: 0 / 3 ( 0 / 1 )\nX-Extension: 1\nFoo-Message: 9/9\n');
    assert.deepEqual(s, { waiting: false, account: 'sip:x@y', counts: { 'text-message': { newCount: 0, oldCount: 3, newUrgent: 0, oldUrgent: 1 } } });
  });

  it('refuses malformed summaries with 400 and oversized ones with 413', () => {
    for (const bad of [
      '',
      'Text-Message: 1/0\r\n',
      'Messages-Waiting: maybe\r\n',
      'Messages-Waiting: yes\r\nText-Message: 1\r\n',
      'Messages-Waiting: yes\r\nText-Message: -1/0\r\n',
      'Messages-Waiting: yes\r\nText-Message: 1/0 (1)\r\n',
      'Messages-Waiting: yes\r\nText-Message: 1234567890/0\r\n',
      'Messages-Waiting: yes\r\nMessage-Account: not a uri\r\n',
      'Messages-Waiting: yes\r\nno colon\r\n',
    ]) {
      const r = parseMessageSummary(bad);
      assert.ok(r instanceof ProtocolError, JSON.stringify(bad));
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    const many = parseMessageSummary('Messages-Waiting: yes\r\n' + 'X: 1\r\n'.repeat(70));
    assert.ok(many instanceof ProtocolError && many.status === 413);
    const big = parseMessageSummary('Messages-Waiting: yes\r\nX: ' + 'a'.repeat(9000));
    assert.ok(big instanceof ProtocolError && big.status === 413);
  });

  it('refuses to write a negative or fractional count', () => {
    assert.throws(() => buildMessageSummary({ waiting: true, counts: { 'text-message': { newCount: -1, oldCount: 0 } } }), RangeError);
    assert.throws(() => buildMessageSummary({ waiting: true, counts: { 'text-message': { newCount: 1.5, oldCount: 0 } } }), RangeError);
  });

  it('parse(build(summary)) is the summary', () => {
    const n = fc.integer({ min: 0, max: 999_999_999 });
    const counts: fc.Arbitrary<MessageCounts> = fc.oneof(
      fc.record({ newCount: n, oldCount: n }).map((c) => ({ ...c })),
      fc.record({ newCount: n, oldCount: n, newUrgent: n, oldUrgent: n }).map((c) => ({ ...c })),
    );
    const summary: fc.Arbitrary<MessageSummary> = fc
      .record({
        waiting: fc.boolean(),
        account: fc.option(fc.stringMatching(/^sip:[a-z0-9]{1,8}@[a-z]{1,8}\.example$/), { nil: undefined }),
        counts: fc.dictionary(fc.constantFrom(...MESSAGE_CONTEXT_CLASSES), counts).map((d) => ({ ...d })),
        headers: fc.option(fc.array(fc.record({ name: fc.constantFrom('To', 'From', 'Subject'), value: fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?$/) }).map((h) => ({ ...h })), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      })
      .map((s) => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as MessageSummary);
    fc.assert(
      fc.property(summary, (s) => {
        assert.deepEqual(parseMessageSummary(buildMessageSummary(s)), s);
      }),
      { numRuns: 300 },
    );
  });
});
