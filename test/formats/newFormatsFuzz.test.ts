// Parsers of untrusted bodies never throw: whatever the bytes, the answer is a value or a
// ProtocolError with a 4xx status. Inputs: random text, and valid documents cut or mutated.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { buildConferenceInfo, parseConferenceInfo } from '../../src/formats/conferenceInfo.js';
import { buildResourceLists, parseResourceLists } from '../../src/formats/resourceLists.js';
import { buildMessageSummary, parseMessageSummary, textMessageSummary } from '../../src/formats/messageSummary.js';
import { buildSipfrag, parseSipfrag } from '../../src/formats/sipfrag.js';

const samples: Array<[string, (s: string) => unknown]> = [
  [
    buildConferenceInfo({
      entity: 'sip:r@x',
      state: 'full',
      version: 3,
      description: { subject: 'x', confUris: [{ uri: 'sip:r@x' }] },
      conferenceState: { userCount: 1 },
      users: [{ entity: 'sip:a@x', displayText: 'a', roles: ['participant'], endpoints: [{ entity: 'sip:a@h', status: 'connected', media: [{ id: '1', type: 'message' }] }] }],
    }),
    (s) => parseConferenceInfo(s),
  ],
  [buildResourceLists([{ uri: 'sip:a@x', displayName: 'A', copyControl: 'to' }, { uri: 'sip:b@x' }]), (s) => parseResourceLists(s)],
  [buildMessageSummary({ ...textMessageSummary('sip:m@x', 2, 1), headers: [{ name: 'From', value: '<sip:b@x>' }] }), (s) => parseMessageSummary(s)],
  [buildSipfrag(180) + 'To: <sip:x@y>\r\n\r\nbody', (s) => parseSipfrag(s)],
];

function check(r: unknown): void {
  if (r instanceof ProtocolError) assert.ok(r.status >= 400 && r.status < 500, `${r.code} ${r.status}`);
  else assert.ok(r !== null && typeof r === 'object');
}

it('never throws on random text', () => {
  for (const [, parse] of samples) fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (s) => check(parse(s))), { numRuns: 300 });
});

it('never throws on cut or mutated valid documents', () => {
  for (const [doc, parse] of samples) {
    for (let i = 0; i <= doc.length; i++) check(parse(doc.slice(0, i)));
    fc.assert(
      fc.property(fc.nat(doc.length - 1), fc.string({ minLength: 1, maxLength: 3 }), (at, ins) => check(parse(doc.slice(0, at) + ins + doc.slice(at + 1)))),
      { numRuns: 500 },
    );
  }
});
