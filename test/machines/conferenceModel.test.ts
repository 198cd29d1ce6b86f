/**
 * Model-based tests of the room machine: xstate/graph walks the conference machine inside a
 * small in-memory world (`fromTransition`): two users, alice (owner) and bob, who join, ACK,
 * fail to ACK (the ACK timeout as an explicit `fire` event, PACKAGES.md), leave by BYE, lose
 * their MSRP connection or are too slow, kick each other, invite someone, chat, take nicknames
 * and watch the roster (whose expiry is an explicit event too). States are
 * serialized by value (machine state, each participant's status and nickname, armed timers,
 * subscription): never by growing counters.
 *
 * Invariants at every step of every path: an expected participant has exactly its ACK timer
 * armed; an ad-hoc room with nobody left is closed (final) and a closed room holds nobody;
 * every JOIN, SEND and NICKNAME is answered exactly once; a relay never goes back to its
 * sender nor to a participant that is not joined; a BYE goes out for a drop, a lost
 * connection or a kick and never in answer to the participant's own BYE; nicknames are unique
 * across users; roster NOTIFY versions increase by one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromTransition, type AnyMachineSnapshot } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { Stepper, type StepAction } from '../../src/actors/stepper.js';
import { conferenceEvents as ev, conferenceMachine, type ConferenceContext } from '../../src/machines/conference.js';
import type { RoomEffect } from '../../src/machines/effects.js';
import { openPolicy } from '../../src/machines/policy.js';

const ROOM = 'sip:dev@conference.example';
const USERS = { a: 'sip:alice@example.com', b: 'sip:bob@example.com' } as const;
type Who = keyof typeof USERS;

type WorldEvent =
  | { type: 'join'; who: Who }
  | { type: 'ack'; who: Who }
  | { type: 'fire'; who: Who }
  | { type: 'bye'; who: Who }
  | { type: 'lost'; who: Who }
  | { type: 'kick'; by: Who; target: Who }
  | { type: 'say'; who: Who }
  | { type: 'nick'; who: Who; name: string }
  | { type: 'subscribe' }
  | { type: 'slow'; who: Who }
  | { type: 'invite'; by: Who }
  | { type: 'fireSub' };

interface World {
  readonly snap: AnyMachineSnapshot | undefined;
  readonly timers: Readonly<Record<string, { type: string; [k: string]: unknown }>>;
  /** Requests sent and answers got, by ref. */
  readonly asked: readonly string[];
  readonly answered: readonly string[];
  readonly effects: readonly RoomEffect[];
  readonly lastEvent: WorldEvent | undefined;
  readonly versions: readonly number[];
  readonly n: number;
}

const stepper = new Stepper(conferenceMachine);
const ctxOf = (w: World) => w.snap?.context as ConferenceContext | undefined;
const emptyWorld = (): World => ({ snap: undefined, timers: {}, asked: [], answered: [], effects: [], lastEvent: undefined, versions: [], n: 0 });

/** Static rooms are covered elsewhere: this room is ad-hoc, owned by alice. */
const input = { room: ROOM, policy: { ...openPolicy, owners: [USERS.a] } };

function subscription(version = 0) {
  return { state: 'active' as const, expiresAt: 1e12, version, dialog: { localTag: 'w', localCSeq: 0 } };
}

function toEvent(w: World, e: WorldEvent, ref: string) {
  switch (e.type) {
    case 'join':
      return ev.join({ id: e.who, uri: USERS[e.who], dialog: { callId: e.who }, session: `s-${e.who}` }, ref, w.n);
    case 'ack':
      return ev.ackReceived(e.who);
    case 'fire':
      return w.timers[`ack:${e.who}`];
    case 'bye':
      return ev.left(e.who, 'bye');
    case 'lost':
      return ev.left(e.who, 'connection-lost');
    case 'kick':
      return ev.kick(USERS[e.by], USERS[e.target], ref);
    case 'say':
      return ev.messageReceived({ participantId: e.who, ref, from: USERS[e.who], to: [ROOM], contentType: 'text/plain', body: 'aGk=', at: w.n });
    case 'nick':
      return ev.nicknameRequested(e.who, ref, e.name);
    case 'subscribe':
      return ev.subscribed(subscription(), ref, w.n);
    case 'slow':
      return ev.left(e.who, 'slow');
    case 'invite':
      return ev.inviteRequested(USERS[e.by], 'sip:zoe@example.org', ref);
    case 'fireSub':
      return w.timers['sub:w'];
  }
}

function step(w: World, e: WorldEvent): World {
  const ref = `r${w.n}`;
  const event = toEvent(w, e, ref);
  let snap = w.snap;
  let actions: StepAction[] = [];
  if (snap === undefined) {
    if (e.type !== 'join' || event === undefined) return { ...w, lastEvent: e }; // nothing exists: only a JOIN creates the room
    const [s0, a0] = stepper.initial(input);
    snap = s0;
    actions = a0;
  }
  if (event === undefined) return { ...w, lastEvent: e };
  const [next, acts] = stepper.step(snap, event as never);
  actions = [...actions, ...acts];
  const timers = { ...w.timers };
  const effects: RoomEffect[] = [];
  for (const a of actions) {
    if (a.type === 'xstate.emit') effects.push(a.params.event as RoomEffect);
    else if (a.type === 'xstate.raise' && a.params.delay !== undefined) timers[a.params.id as string] = a.params.event as never;
    else if (a.type === 'xstate.cancel') delete timers[a.params.sendId as string];
  }
  if (e.type === 'fire') delete timers[`ack:${e.who}`];
  if (e.type === 'fireSub') delete timers['sub:w'];
  const answered = [...w.answered];
  const versions = [...w.versions];
  for (const f of effects) {
    if (f.type === 'sip.respond' || f.type === 'sip.acceptJoin') answered.push(f.requestRef);
    if (f.type === 'msrp.answer') answered.push(f.ref);
    if (f.type === 'sip.notifyRoster' && f.document !== undefined) versions.push((f.subscription as { version: number }).version + 1);
  }
  const asks = e.type === 'join' || e.type === 'kick' || e.type === 'say' || e.type === 'nick' || e.type === 'subscribe' || e.type === 'invite';
  const done = next.status === 'done';
  return {
    snap: done ? undefined : next,
    timers: done ? {} : timers,
    asked: asks ? [...w.asked, ref] : w.asked,
    answered,
    effects,
    lastEvent: e,
    versions,
    n: w.n + 1,
  };
}

function brokenInvariant(before: World, w: World): string | undefined {
  const c = ctxOf(w);
  const e = w.lastEvent;
  if (c !== undefined) {
    for (const p of Object.values(c.participants)) {
      if ((p.status === 'expected') !== (w.timers[`ack:${p.id}`] !== undefined)) return `${p.id} ${p.status} but ack timer ${w.timers[`ack:${p.id}`] ? 'armed' : 'missing'}`;
    }
    if (!c.isStatic && w.snap?.value === 'open' && Object.keys(c.participants).length === 0) return 'empty ad-hoc room still open';
    const nicks = Object.values(c.participants).filter((p) => p.nickname !== undefined);
    for (const p of nicks) for (const q of nicks) if (p.uri !== q.uri && p.nickname?.toLowerCase() === q.nickname?.toLowerCase()) return `nickname ${p.nickname} held twice`;
  }
  if (w.asked.length !== w.answered.length || new Set(w.answered).size !== w.answered.length) return `asked ${w.asked.join(',')} answered ${w.answered.join(',')}`;
  const was = ctxOf(before);
  for (const f of w.effects) {
    if (f.type === 'msrp.relay') {
      if (e?.type !== 'say') return 'relay without a SEND';
      if (f.sessions.includes(`s-${e.who}`)) return 'relayed back to the sender';
      for (const s of f.sessions) if (was?.participants[String(s).slice(2)]?.status !== 'joined') return `relayed to ${String(s)}, not joined`;
    }
    if (f.type === 'sip.bye' && e?.type === 'bye') return 'BYE in answer to a BYE';
  }
  const byes = w.effects.filter((f) => f.type === 'sip.bye').length;
  if (e?.type === 'fire' && was?.participants[e.who]?.status === 'expected' && byes !== 1) return 'no BYE for an ACK timeout';
  if ((e?.type === 'lost' || e?.type === 'slow') && was?.participants[e.who] !== undefined && byes !== 1) return `no BYE after ${e.type}`;
  const invites = w.effects.filter((f) => f.type === 'sip.inviteUser').length;
  if (e?.type === 'invite' && invites !== (was?.participants[e.by]?.status === 'joined' ? 1 : 0)) return 'invitation by someone not in the room, or none by someone in it';
  if (e?.type === 'fireSub' && !w.effects.some((f) => f.type === 'sip.notifyRoster' && (f.subscription as { state: string }).state === 'terminated')) return 'no final NOTIFY at expiry';
  if (e?.type === 'kick' && e.by !== 'a' && w.effects.some((f) => f.type === 'sip.bye')) return 'a participant could kick';
  for (let i = 1; i < w.versions.length; i++) if (w.versions[i] !== w.versions[i - 1] + 1 && w.versions[i] !== 1) return `roster versions ${w.versions.join(',')}`;
  return undefined;
}

const EVENTS: WorldEvent[] = [
  { type: 'join', who: 'a' },
  { type: 'join', who: 'b' },
  { type: 'ack', who: 'a' },
  { type: 'ack', who: 'b' },
  { type: 'fire', who: 'a' },
  { type: 'fire', who: 'b' },
  { type: 'bye', who: 'a' },
  { type: 'bye', who: 'b' },
  { type: 'lost', who: 'b' },
  { type: 'kick', by: 'a', target: 'b' },
  { type: 'kick', by: 'b', target: 'a' },
  { type: 'say', who: 'a' },
  { type: 'say', who: 'b' },
  { type: 'nick', who: 'a', name: 'Zed' },
  { type: 'nick', who: 'b', name: 'zed' },
  { type: 'subscribe' },
  { type: 'slow', who: 'a' },
  { type: 'invite', by: 'b' },
  { type: 'fireSub' },
];

function serialize(w: World): string {
  const c = ctxOf(w);
  if (c === undefined) return 'none';
  const ps = Object.values(c.participants)
    .map((p) => `${p.id}:${p.status}:${p.nickname ?? ''}`)
    .sort()
    .join(',');
  return [JSON.stringify(w.snap?.value), ps, Object.keys(w.timers).sort().join(','), Object.keys(c.subscribers ?? {}).length].join('|');
}

const logic = fromTransition((w: World, e: WorldEvent) => step(w, e), emptyWorld());
const options = {
  events: EVENTS,
  serializeState: (s: { context: World }) => serialize(s.context),
  serializeEvent: (e: WorldEvent) => JSON.stringify(e),
  filterEvents: (s: { context: World }, e: WorldEvent) => {
    const c = ctxOf(s.context);
    if (e.type === 'join') return c?.participants[e.who] === undefined;
    if (e.type === 'fire') return s.context.timers[`ack:${e.who}`] !== undefined;
    if (e.type === 'fireSub') return s.context.timers['sub:w'] !== undefined;
    if (e.type === 'subscribe') return c !== undefined && Object.keys(c.subscribers ?? {}).length === 0;
    return c !== undefined;
  },
};

function replay(steps: ReadonlyArray<{ event: WorldEvent }>): World {
  let w = emptyWorld();
  const done: WorldEvent[] = [];
  for (const { event } of steps) {
    if ((event as { type: string }).type === 'xstate.init') continue;
    const before = w;
    w = step(w, event);
    done.push(event);
    const broken = brokenInvariant(before, w);
    assert.equal(broken, undefined, `${broken}\npath: ${done.map((x) => JSON.stringify(x)).join(' -> ')}`);
  }
  return w;
}

test('every shortest path through the room keeps the invariants', () => {
  const paths = getShortestPaths(logic, options as never);
  assert.ok(paths.length > 30, `explored ${paths.length} abstract states`);
  for (const p of paths) replay(p.steps as never);
  const keys = paths.map((p) => serialize((p.state as { context: World }).context));
  for (const want of ['a:joined', 'b:expected', 'a:joined:Zed', 'b:joined:zed']) assert.ok(keys.some((k) => k.includes(want)), `some path reaches ${want}`);
  assert.ok(keys.some((k) => k.includes('a:joined') && k.includes('b:joined') && k.endsWith('|1')), 'two joined with a roster watcher');
});

test('every simple path from a two-person room to its end keeps the invariants (join, ACK timeout, leave, kick, last one leaves)', () => {
  const prefix: WorldEvent[] = [{ type: 'join', who: 'a' }, { type: 'ack', who: 'a' }, { type: 'join', who: 'b' }];
  let w = emptyWorld();
  for (const e of prefix) w = step(w, e);
  const from = logic.getInitialSnapshot(null as never, undefined);
  const paths = getSimplePaths(logic, {
    ...options,
    fromState: { ...from, context: w } as never,
    events: EVENTS.filter((e) => e.type !== 'subscribe' && e.type !== 'nick' && e.type !== 'fireSub' && e.type !== 'invite'),
    toState: (s: { context: World }) => s.context.snap === undefined,
  } as never);
  assert.ok(paths.length > 20, `${paths.length} paths`);
  for (const p of paths) {
    const end = replay([...prefix.map((event) => ({ event })), ...(p.steps as unknown as Array<{ event: WorldEvent }>)]);
    assert.equal(end.snap, undefined, 'the ad-hoc room ended');
    // The last one out closes the room and its history goes with it.
    assert.ok(end.effects.some((f) => f.type === 'store.clearHistory'), 'history cleared when the room ends');
  }
});

test('a participant kicking gets 403 and nothing changes; the owner kicking BYEs the target', () => {
  let w = emptyWorld();
  for (const e of [{ type: 'join', who: 'a' }, { type: 'ack', who: 'a' }, { type: 'join', who: 'b' }, { type: 'ack', who: 'b' }] as WorldEvent[]) w = step(w, e);
  const refused = step(w, { type: 'kick', by: 'b', target: 'a' });
  assert.deepEqual(refused.effects.map((f) => [f.type, (f as { status?: number }).status]), [['sip.respond', 403]]);
  assert.equal(ctxOf(refused)?.participants.a?.status, 'joined');
  const kicked = step(w, { type: 'kick', by: 'a', target: 'b' });
  assert.deepEqual(kicked.effects.filter((f) => f.type === 'sip.respond' || f.type === 'sip.bye').map((f) => f.type), ['sip.respond', 'sip.bye']);
  assert.equal(ctxOf(kicked)?.participants.b, undefined);
});
