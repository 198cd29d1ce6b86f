/**
 * The welcome notice that follows a newcomer's history counts the others already in the room,
 * whether the newcomer joined by INVITE and ACK or as a user the room invited (REFER), and
 * not those still expected (answered, no ACK yet).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conferenceEvents as ev, conferenceMachine } from '../../src/machines/conference.js';
import { Stepper, type StepAction } from '../../src/actors/stepper.js';

const ROOM = 'sip:dev@conference.parley.example';
const person = (n: string) => ({ id: `d-${n}`, uri: `sip:${n}@example.com`, dialog: { callId: `c-${n}` }, session: { id: `s-${n}` } });

function welcomes(actions: StepAction[]): string[] {
  return actions
    .map((a) => a.params.event as { type?: string; welcome?: string } | undefined)
    .filter((e) => e?.type === 'msrp.replayHistory')
    .map((e) => e?.welcome as string);
}

test('joined others are counted, expected ones are not, for an ACK and for an invited user alike', () => {
  const stepper = new Stepper(conferenceMachine);
  let [s] = stepper.initial({ room: ROOM });
  [s] = stepper.step(s, ev.join(person('alice'), 'r1', 0));
  let [, actions] = stepper.step(s, ev.ackReceived('d-alice'));
  assert.deepEqual(welcomes(actions), [`Welcome to ${ROOM}: 0 other participants here`]);
  [s] = stepper.step(s, ev.ackReceived('d-alice'));
  [s] = stepper.step(s, ev.join(person('bob'), 'r2', 1)); // answered, not acknowledged yet
  [s, actions] = stepper.step(s, ev.inviteeJoined(person('carol'), 2));
  assert.deepEqual(welcomes(actions), [`Welcome to ${ROOM}: 1 other participant here`], 'alice, not bob');
  [, actions] = stepper.step(s, ev.ackReceived('d-bob'));
  assert.deepEqual(welcomes(actions), [`Welcome to ${ROOM}: 2 other participants here`], 'alice and carol');
});
