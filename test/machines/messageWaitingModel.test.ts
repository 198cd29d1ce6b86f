/**
 * Model-based tests of the message-waiting machine with the real RFC 6665 rules
 * (`messageSummaryOps`): xstate/graph walks SUBSCRIBEs from two subscribers, refreshes,
 * unsubscribes, mailbox changes, the NOTIFY pacing timer, subscription expiry, failed NOTIFYs
 * and restarts. Invariants at every step: every accepted SUBSCRIBE is answered once and
 * followed at once by a NOTIFY; NOTIFY CSeqs increase in each dialog; no NOTIFY for a
 * subscription that is gone; the last NOTIFY each live subscriber got shows the counts known at
 * the last pacing tick; an expiry timer per live subscription; the mailbox is watched exactly
 * while someone subscribes; the actor ends with its last subscription.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fromTransition, type AnyMachineSnapshot } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { Stepper } from '../../src/actors/stepper.js';
import { messageSummaryOps } from '../../src/actors/messageWaitingKind.js';
import { createMessageWaitingMachine, messageWaitingEvents as ev, type Counts, type MessageWaitingContext, type MessageWaitingEffect, type MessageWaitingEvent, type MessageWaitingInput } from '../../src/machines/messageWaiting.js';
import type { SipRequest } from '../../src/transport/sip/message.js';
import { getHeader } from '../../src/transport/sip/headers.js';
import { parseMessageSummary } from '../../src/formats/messageSummary.js';
import { dialogKey } from '../../src/transport/sip/dialog.js';
import { replayPath } from '../helpers/modelPaths.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const AOR = 'sip:bob@parley.example';
const INPUT: MessageWaitingInput = { aor: AOR, account: 'sip:offline@parley.example', maxSubscriptions: 2, minIntervalMs: 1000 };
const stepper = new Stepper(createMessageWaitingMachine(messageSummaryOps(() => 'sip:127.0.0.1:5060')));

type Who = 'a' | 'b';
const LOCAL_TAG: Record<Who, string> = { a: 'lt-a', b: 'lt-b' };

function subscribeRequest(who: Who, cseq: number, expires: number): SipRequest {
  return {
    kind: 'request',
    method: 'SUBSCRIBE',
    uri: AOR,
    body: Buffer.alloc(0),
    headers: [
      { name: 'via', value: `SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${who}-${cseq}` },
      { name: 'from', value: `<${AOR}>;tag=ft-${who}` },
      { name: 'to', value: `<${AOR}>${cseq > 1 ? `;tag=${LOCAL_TAG[who]}` : ''}` },
      { name: 'call-id', value: `call-${who}` },
      { name: 'cseq', value: `${cseq} SUBSCRIBE` },
      { name: 'contact', value: `<sip:bob@127.0.0.1:5070>` },
      { name: 'event', value: 'message-summary' },
      { name: 'expires', value: String(expires) },
    ],
  };
}

interface World {
  readonly snap: AnyMachineSnapshot | undefined;
  readonly ended: boolean;
  readonly now: number;
  readonly timers: Readonly<Record<string, { due: number; event: MessageWaitingEvent }>>;
  /** Live subscriptions as the subscribers see them. */
  readonly subscribed: Readonly<Record<Who, boolean>>;
  readonly cseq: Readonly<Record<Who, number>>;
  /** Per subscriber: last NOTIFY CSeq and counts seen. */
  readonly notified: Readonly<Record<string, { cseq: number; text: string; state: string }>>;
  readonly answers: number;
  readonly requests: number;
  readonly watching: boolean;
  /** Counts in the mailbox (what the application would read). */
  readonly counts: Counts;
  /** Counts as of the last reported change that was paced out. */
  readonly lastTick: Counts;
}

type WorldEvent =
  | { type: 'subscribe'; who: Who }
  | { type: 'refresh'; who: Who }
  | { type: 'unsubscribe'; who: Who }
  | { type: 'store' }
  | { type: 'fetch' }
  | { type: 'fire'; timer: string }
  | { type: 'failed'; who: Who }
  | { type: 'restart' };

const empty = (): World => ({
  snap: undefined, ended: false, now: T0, timers: {}, subscribed: { a: false, b: false }, cseq: { a: 0, b: 0 }, notified: {}, answers: 0, requests: 0,
  watching: false, counts: { newCount: 0, oldCount: 0 }, lastTick: { newCount: 0, oldCount: 0 },
});
const ctxOf = (w: World) => w.snap?.context as MessageWaitingContext | undefined;
const whoOf = (callId: string): Who => (callId === 'call-a' ? 'a' : 'b');

function feed(w0: World, event: MessageWaitingEvent): World {
  let snap = w0.snap;
  let initial: ReturnType<Stepper['step']>[1] = [];
  if (snap === undefined || w0.ended) {
    if (event.type !== 'SUBSCRIBE_RECEIVED') return w0; // 'absent'
    [snap, initial] = stepper.initial(event.input);
    w0 = { ...w0, ended: false, timers: {} };
  }
  const [next, actions] = stepper.step(snap, event);
  if (next.status === 'error') throw next.error;
  let w: World = { ...w0, snap: next };
  const timers = { ...w.timers };
  for (const a of [...initial, ...actions]) {
    if (a.type === 'xstate.raise' && a.params.delay !== undefined) timers[a.params.id as string] = { due: w.now + Number(a.params.delay), event: a.params.event as MessageWaitingEvent };
    else if (a.type === 'xstate.cancel') delete timers[a.params.sendId as string];
    else if (a.type === 'xstate.emit') {
      const e = a.params.event as MessageWaitingEffect;
      if (e.type === 'mwi.respond') w = { ...w, answers: w.answers + 1 };
      else if (e.type === 'mwi.watch') {
        assert.notEqual(e.on, w.watching, 'watch toggled to what it already was');
        w = { ...w, watching: e.on };
      } else if (e.type === 'mwi.notify') {
        const req = e.request as SipRequest;
        const who = whoOf(getHeader(req, 'call-id') ?? '');
        const cseq = Number((getHeader(req, 'cseq') ?? '').split(' ')[0]);
        const prev = w.notified[who];
        assert.ok(w.subscribed[who], `NOTIFY to ${who}, who is not subscribed`);
        assert.ok(prev === undefined || cseq > prev.cseq, `NOTIFY CSeq ${cseq} not above ${prev?.cseq}`);
        const s = parseMessageSummary(req.body);
        assert.ok(!(s instanceof Error));
        const t = s.counts['text-message'];
        const state = getHeader(req, 'subscription-state') ?? '';
        w = { ...w, notified: { ...w.notified, [who]: { cseq, text: `${t?.newCount}/${t?.oldCount}`, state } } };
        if (state.startsWith('terminated')) w = { ...w, subscribed: { ...w.subscribed, [who]: false } };
      }
    }
  }
  if (next.status === 'done') return { ...w, snap: undefined, ended: true, timers: {} };
  return { ...w, timers };
}

function step(w: World, e: WorldEvent): World {
  switch (e.type) {
    case 'subscribe': {
      const w1 = { ...w, requests: w.requests + 1, cseq: { ...w.cseq, [e.who]: 1 }, subscribed: { ...w.subscribed, [e.who]: true }, notified: { ...w.notified, [e.who]: undefined as never } };
      const next = feed(w1, ev.subscribe(w.now, 'r', subscribeRequest(e.who, 1, 3600), LOCAL_TAG[e.who], w.counts, INPUT));
      // Refused (over the limit): not subscribed after all.
      return next.notified[e.who] === undefined ? { ...next, subscribed: { ...next.subscribed, [e.who]: false } } : { ...next, lastTick: w.counts };
    }
    case 'refresh':
    case 'unsubscribe': {
      const cseq = w.cseq[e.who] + 1;
      const key = dialogKey({ callId: `call-${e.who}`, localTag: LOCAL_TAG[e.who], remoteTag: `ft-${e.who}` });
      const before = w.snap === undefined ? w : { ...w, requests: w.requests + 1 };
      const next = w.snap === undefined ? w : feed({ ...before, cseq: { ...w.cseq, [e.who]: cseq } }, ev.refresh(w.now, 'r', subscribeRequest(e.who, cseq, e.type === 'refresh' ? 3600 : 0), key));
      return next;
    }
    case 'store':
    case 'fetch': {
      const counts = e.type === 'store' ? { newCount: w.counts.newCount + 1, oldCount: w.counts.oldCount } : { newCount: 0, oldCount: w.counts.oldCount + w.counts.newCount };
      const w1 = { ...w, counts };
      // The mailbox reports changes only while watched.
      return w.watching ? feed(w1, ev.countsChanged(w.now, counts)) : w1;
    }
    case 'fire': {
      const t = w.timers[e.timer];
      if (t === undefined) return w;
      const { [e.timer]: _gone, ...rest } = w.timers;
      const w1 = feed({ ...w, now: Math.max(w.now, t.due), timers: rest }, t.event);
      return e.timer === 'notify' ? { ...w1, lastTick: w.watching ? w.counts : w1.lastTick } : w1;
    }
    case 'failed': {
      const id = Object.entries(ctxOf(w)?.subs ?? {}).find(([, s]) => (s as { dialog: { callId: string } }).dialog.callId === `call-${e.who}`)?.[0];
      if (id === undefined) return w;
      return feed({ ...w, subscribed: { ...w.subscribed, [e.who]: false } }, ev.notifyFailed(w.now, id));
    }
    case 'restart':
      return w.snap === undefined ? w : { ...w, snap: stepper.restore(w.snap.value, w.snap.context) };
  }
}

function broken(w: World): string | undefined {
  if (w.answers !== w.requests) return `${w.requests} SUBSCRIBEs, ${w.answers} answers`;
  const c = ctxOf(w);
  const live = (Object.keys(w.subscribed) as Who[]).filter((x) => w.subscribed[x]);
  if (c === undefined) return live.length > 0 ? 'ended with live subscribers' : w.watching ? 'ended still watching the mailbox' : undefined;
  if (Object.keys(c.subs).length !== live.length) return `${Object.keys(c.subs).length} subscriptions kept, ${live.length} live`;
  if (w.watching !== live.length > 0) return 'watching the mailbox not exactly while subscribed';
  for (const id of Object.keys(c.subs)) if (w.timers[`exp:${id}`] === undefined) return `no expiry timer for ${id}`;
  if ((c.notifyAt !== null) !== (w.timers.notify !== undefined)) return 'notifyAt does not match the notify timer';
  for (const x of live) {
    const n = w.notified[x];
    if (n === undefined) return `${x} subscribed without a NOTIFY`;
    if (w.timers.notify === undefined && n.text !== `${w.lastTick.newCount}/${w.lastTick.oldCount}` && n.text !== `${w.counts.newCount}/${w.counts.oldCount}`) {
      return `${x} last saw ${n.text}, counts are ${w.counts.newCount}/${w.counts.oldCount}`;
    }
  }
  return undefined;
}

const logic = fromTransition((w: World, e: WorldEvent) => step(w, e), empty());
const EVENTS: WorldEvent[] = [
  { type: 'subscribe', who: 'a' },
  { type: 'subscribe', who: 'b' },
  { type: 'refresh', who: 'a' },
  { type: 'unsubscribe', who: 'a' },
  { type: 'unsubscribe', who: 'b' },
  { type: 'store' },
  { type: 'fetch' },
  { type: 'fire', timer: 'notify' },
  { type: 'fire', timer: 'exp:s1' },
  { type: 'fire', timer: 'exp:s2' },
  { type: 'failed', who: 'b' },
  { type: 'restart' },
];
const options = {
  events: EVENTS,
  serializeState: (s: { context: World }) => {
    const w = s.context;
    const c = ctxOf(w);
    return [JSON.stringify(w.snap?.value ?? null), w.subscribed.a, w.subscribed.b, w.watching, Object.keys(w.timers).sort().join(','), c?.nextId, JSON.stringify(w.counts), JSON.stringify(c?.counts), JSON.stringify(c?.pending), w.notified.a?.text, w.notified.b?.text].join('|');
  },
  serializeEvent: (e: WorldEvent) => JSON.stringify(e),
  filterEvents: (s: { context: World }, e: WorldEvent) => {
    const w = s.context;
    if (e.type === 'subscribe') return !w.subscribed[e.who] && (ctxOf(w)?.nextId ?? 1) < 4;
    if (e.type === 'refresh' || e.type === 'unsubscribe' || e.type === 'failed') return w.subscribed[e.who];
    if (e.type === 'store') return w.counts.newCount + w.counts.oldCount < 2;
    if (e.type === 'fetch') return w.counts.newCount > 0;
    if (e.type === 'fire') return w.timers[e.timer] !== undefined;
    return w.snap !== undefined;
  },
};

describe('message-waiting machine, model-based', () => {
  it('every shortest path keeps the invariants', () => {
    const paths = getShortestPaths(logic, options as never);
    assert.ok(paths.length > 100, `explored ${paths.length} abstract states`);
    for (const p of paths) replayPath({ empty, step, broken }, p.steps);
  });
});

describe('message-waiting machine, scenarios', () => {
  const run = (...events: WorldEvent[]) => events.reduce(step, empty());

  it('NOTIFYs the counts at once on SUBSCRIBE, then once per pacing window however many changes', () => {
    let w = run({ type: 'subscribe', who: 'a' });
    assert.equal(w.notified.a?.text, '0/0');
    assert.match(w.notified.a?.state ?? '', /^active;expires=3600$/);
    w = run({ type: 'subscribe', who: 'a' }, { type: 'store' }, { type: 'store' });
    assert.equal(w.notified.a?.text, '0/0', 'paced: nothing yet');
    assert.equal(w.timers.notify?.due, T0 + 1000);
    w = step(w, { type: 'fire', timer: 'notify' });
    assert.equal(w.notified.a?.text, '2/0');
    w = step(step(w, { type: 'fetch' }), { type: 'fire', timer: 'notify' });
    assert.equal(w.notified.a?.text, '0/2');
  });

  it('an unsubscribe gets the final NOTIFY and ends the actor and the mailbox watch', () => {
    const w = run({ type: 'subscribe', who: 'a' }, { type: 'unsubscribe', who: 'a' });
    assert.match(w.notified.a?.state ?? '', /^terminated;reason=timeout/);
    assert.ok(w.ended);
    assert.equal(w.watching, false);
  });

  it('expiry terminates the subscription at its Expires', () => {
    const w = run({ type: 'subscribe', who: 'a' });
    assert.equal(w.timers['exp:s1']?.due, T0 + 3_600_000);
    const x = step(w, { type: 'fire', timer: 'exp:s1' });
    assert.match(x.notified.a?.state ?? '', /^terminated;reason=timeout/);
    assert.ok(x.ended);
  });

  it('a third subscriber over the limit gets 403 and no NOTIFY', () => {
    const w = run({ type: 'subscribe', who: 'a' }, { type: 'subscribe', who: 'b' });
    assert.equal(Object.keys(ctxOf(w)?.subs ?? {}).length, 2);
    const s = stepper.step(w.snap as AnyMachineSnapshot, ev.subscribe(T0, 'r3', { ...subscribeRequest('a', 1, 3600), headers: subscribeRequest('a', 1, 3600).headers.map((h) => (h.name === 'call-id' ? { ...h, value: 'call-c' } : h)) }, 'lt-c', { newCount: 0, oldCount: 0 }, INPUT));
    const effects = s[1].filter((a) => a.type === 'xstate.emit').map((a) => a.params.event as MessageWaitingEffect);
    assert.deepEqual(effects.map((e) => e.type), ['mwi.respond']);
    assert.equal((effects[0] as { answer: { status: number } }).answer.status, 403);
  });
});
