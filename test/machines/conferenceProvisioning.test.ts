/**
 * Static rooms in the conference machine: ROOM_PROVISIONED makes a room static with a policy
 * and a history size, again replaces them (the admin API's "set policy/owners"), and a static
 * room outlives its last participant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conferenceEvents, conferenceMachine, DEFAULT_HISTORY_SIZE, type ConferenceContext } from '../../src/machines/conference.js';
import { openPolicy, type RoomPolicy } from '../../src/machines/policy.js';
import { Stepper } from '../../src/actors/stepper.js';
import { roomKind } from '../../src/actors/roomKind.js';

const ROOM = 'sip:dev@conference.parley.example';
const alice = { id: 'd1', uri: 'sip:alice@example.com', dialog: { callId: 'c1' }, session: { id: 's1' } };
const owned: RoomPolicy = { ...openPolicy, owners: ['sip:boss@example.com'] };

function provisioned(historySize?: number) {
  const stepper = new Stepper(conferenceMachine);
  const [s0] = stepper.initial({ room: ROOM });
  const [s1] = stepper.step(s0, conferenceEvents.provisioned(owned, historySize));
  return { stepper, s1 };
}

test('ROOM_PROVISIONED opens a new room as static with its policy and history size', () => {
  const { s1 } = provisioned(10);
  const c = s1.context as ConferenceContext;
  assert.equal(s1.value, 'open');
  assert.equal(c.isStatic, true);
  assert.deepEqual(c.policy, owned);
  assert.equal(c.historySize, 10);
});

test('the history size defaults to 50 and is kept when a later ROOM_PROVISIONED leaves it out', () => {
  const { stepper, s1 } = provisioned();
  assert.equal((s1.context as ConferenceContext).historySize, DEFAULT_HISTORY_SIZE);
  const [s2] = stepper.step(s1, conferenceEvents.provisioned(owned, 7));
  const moderated: RoomPolicy = { ...owned, moderators: ['@example.com'] };
  const [s3] = stepper.step(s2, conferenceEvents.provisioned(moderated));
  const c = s3.context as ConferenceContext;
  assert.equal(c.historySize, 7);
  assert.deepEqual(c.policy.moderators, ['@example.com']);
});

test('a record of machine version 1 without historySize gets the configured size, else the default', () => {
  const { historySize: _gone, ...old } = provisioned().s1.context as ConferenceContext;
  const v1 = { v: 1 as const, machineVersion: 1, value: 'open', context: old, timers: {}, lastEventAt: 0 };
  const migrated = roomKind({ historySize: 7 }).migrate?.(v1);
  assert.equal(migrated?.machineVersion, roomKind().version);
  assert.equal((migrated?.context as ConferenceContext).historySize, 7);
  assert.equal((roomKind().migrate?.(v1)?.context as ConferenceContext).historySize, DEFAULT_HISTORY_SIZE);
  const kept = roomKind({ historySize: 7 }).migrate?.({ ...v1, context: { ...old, historySize: 3 } });
  assert.equal((kept?.context as ConferenceContext).historySize, 3, 'a size the room has is kept');
  // Restored and stepped, the room records history again (a relay needs historySize > 0).
  const stepper = new Stepper(conferenceMachine);
  const [s] = stepper.step(stepper.restore('open', migrated?.context), conferenceEvents.provisioned(openPolicy));
  assert.equal((s.context as ConferenceContext).historySize, 7);
  assert.equal(roomKind().migrate?.({ ...v1, machineVersion: 9 }), undefined, 'an unknown version is not guessed');
});

test('a static room stays open when its last participant leaves; ROOM_DELETED closes it', () => {
  const { stepper, s1 } = provisioned();
  const [s2] = stepper.step(s1, conferenceEvents.join(alice, 'r1', 0));
  const [s3] = stepper.step(s2, conferenceEvents.ackReceived('d1'));
  const [s4] = stepper.step(s3, conferenceEvents.left('d1', 'bye'));
  assert.equal(s4.value, 'open');
  assert.deepEqual((s4.context as ConferenceContext).participants, {});
  const [s5] = stepper.step(s4, conferenceEvents.deleted());
  assert.equal(s5.status, 'done');
});

test('an ad-hoc room promoted by ROOM_PROVISIONED keeps its participants and becomes static', () => {
  const stepper = new Stepper(conferenceMachine);
  const [s0] = stepper.initial({ room: ROOM });
  const [s1] = stepper.step(s0, conferenceEvents.join(alice, 'r1', 0));
  const [s2] = stepper.step(s1, conferenceEvents.provisioned(owned, 5));
  const c = s2.context as ConferenceContext;
  assert.equal(c.isStatic, true);
  assert.equal(c.historySize, 5);
  assert.deepEqual(Object.keys(c.participants), ['d1']);
});
