/**
 * The room's relay and nickname decisions as pure functions (roomRelay.ts): who gets a
 * message, what is stored, which status the sender gets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideNickname, decideRelay, type MessageReceived, type RelayContext } from '../../src/machines/roomRelay.js';

const ROOM = 'sip:dev@conference.example';
const p = (id: string, user: string, status: 'expected' | 'joined' = 'joined', nickname?: string) => ({
  id, uri: `sip:${user}@example.com`, status, session: `s-${id}`, ...(nickname !== undefined ? { nickname } : {}),
});
const ctx: RelayContext = {
  room: ROOM,
  historySize: 50,
  participants: { a: p('a', 'alice', 'joined', 'Al'), a2: p('a2', 'alice'), b: p('b', 'bob'), c: p('c', 'carol'), e: p('e', 'erin', 'expected') },
};
const msg = (over: Partial<MessageReceived> = {}): MessageReceived => ({
  type: 'MESSAGE_RECEIVED', participantId: 'a', ref: 'r', from: 'sip:alice@example.com', to: [ROOM], contentType: 'text/plain', body: 'aGk=', at: 0, ...over,
});
const summary = (effects: ReturnType<typeof decideRelay>) =>
  effects.map((e) => (e.type === 'msrp.answer' ? `answer ${e.status}` : e.type === 'msrp.relay' ? `relay ${e.sessions.join(',')} to ${e.message.to}` : e.type));

test('a public message is stored, answered, then relayed to every other joined session', () => {
  assert.deepEqual(summary(decideRelay(ctx, msg())), ['store.appendHistory', 'answer 200', `relay s-a2,s-b,s-c to ${ROOM}`]);
  const relay = decideRelay(ctx, msg()).find((e) => e.type === 'msrp.relay');
  assert.equal(relay?.type === 'msrp.relay' && relay.message.nickname, 'Al');
  assert.equal(relay?.type === 'msrp.relay' && relay.message.dateTime, new Date(0).toISOString());
});

test('a private message goes to its recipient and the sender\'s other sessions, never stored', () => {
  assert.deepEqual(summary(decideRelay(ctx, msg({ to: ['sip:carol@example.com'] }))), ['answer 200', 'relay s-a2,s-c to sip:carol@example.com']);
  assert.deepEqual(summary(decideRelay(ctx, msg({ to: ['sip:zed@example.com'] }))), ['answer 403']);
  assert.deepEqual(summary(decideRelay(ctx, msg({ to: ['sip:carol@example.com', 'sip:bob@example.com'] }))), ['answer 403']);
});

test('refusals: forged From 403, not joined 403, unknown 481; is-composing relayed, not stored', () => {
  assert.deepEqual(summary(decideRelay(ctx, msg({ from: 'sip:bob@example.com' }))), ['answer 403']);
  assert.deepEqual(summary(decideRelay(ctx, msg({ participantId: 'e', from: 'sip:erin@example.com' }))), ['answer 403']);
  assert.deepEqual(summary(decideRelay(ctx, msg({ participantId: 'x' }))), ['answer 481']);
  assert.deepEqual(summary(decideRelay(ctx, msg({ contentType: 'application/im-iscomposing+xml' }))), ['answer 200', `relay s-a2,s-b,s-c to ${ROOM}`]);
});

test('a message already streamed to some sessions is relayed only to the others', () => {
  assert.deepEqual(summary(decideRelay(ctx, msg({ relayedTo: ['s-a2', 's-b'] }))), ['store.appendHistory', 'answer 200', `relay s-c to ${ROOM}`]);
  assert.deepEqual(summary(decideRelay(ctx, msg({ relayedTo: ['s-a2', 's-b', 's-c'] }))), ['store.appendHistory', 'answer 200']);
});

test('nicknames: unique across users case-insensitively, shared by one user\'s sessions, bounded', () => {
  const n = (participantId: string, nickname: string) => decideNickname(ctx, { type: 'NICKNAME_REQUESTED', participantId, ref: 'n', nickname });
  assert.deepEqual(summary(n('b', 'al').effects), ['answer 425']);
  assert.equal(n('a2', 'Al').nickname, 'Al');
  assert.equal(n('b', 'Bobby').nickname, 'Bobby');
  for (const bad of ['', ' lead', 'x'.repeat(65), 'a\u0007b']) assert.deepEqual(summary(n('b', bad).effects), ['answer 400'], JSON.stringify(bad));
});
