/**
 * The message-waiting publication machine (RFC 3903 PUBLISH to a presence server), stepped
 * with the runtime's Stepper: pacing, one PUBLISH at a time, entity tags, 412, retries,
 * refresh before Expires, removal at 0/0, stale answers.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AnyMachineSnapshot } from 'xstate';
import { Stepper } from '../../src/actors/stepper.js';
import { messagePublicationEvents as ev, messagePublicationMachine, type MessagePublicationContext, type MessagePublicationEffect, type MessagePublicationEvent, type MessagePublicationInput } from '../../src/machines/messagePublication.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const INPUT: MessagePublicationInput = { aor: 'sip:bob@parley.example', account: 'sip:offline@parley.example', expires: 3600, paceMs: 1000, retryMs: 30_000, callId: 'c', fromTag: 't' };
const stepper = new Stepper(messagePublicationMachine);

interface W {
  snap: AnyMachineSnapshot | undefined;
  ended: boolean;
  now: number;
  timers: Record<string, { due: number; event: MessagePublicationEvent }>;
  sent: Array<Extract<MessagePublicationEffect, { type: 'mwipub.publish' }>>;
}

const ctx = (w: W) => w.snap?.context as MessagePublicationContext;

function feed(w: W, e: MessagePublicationEvent): W {
  let snap = w.snap;
  let init: ReturnType<Stepper['step']>[1] = [];
  if (snap === undefined) [snap, init] = stepper.initial(INPUT);
  const [next, actions] = stepper.step(snap, e);
  const timers = { ...w.timers };
  const sent = [...w.sent];
  for (const a of [...init, ...actions]) {
    if (a.type === 'xstate.raise' && a.params.delay !== undefined) timers[a.params.id as string] = { due: w.now + Number(a.params.delay), event: a.params.event as MessagePublicationEvent };
    else if (a.type === 'xstate.cancel') delete timers[a.params.sendId as string];
    else if (a.type === 'xstate.emit') sent.push(a.params.event as W['sent'][number]);
  }
  if (next.status === 'done') return { ...w, snap: undefined, ended: true, timers: {}, sent };
  return { ...w, snap: next, timers, sent };
}

const change = (w: W, newCount: number, oldCount: number) => feed(w, ev.countsChanged(w.now, { newCount, oldCount }, INPUT));
function fire(w: W, id: string): W {
  const t = w.timers[id];
  assert.ok(t, `timer ${id} armed`);
  const { [id]: _t, ...rest } = w.timers;
  return feed({ ...w, now: t.due, timers: rest }, t.event);
}
const answer = (w: W, status: number, etag?: string) => feed(w, ev.published(w.now, w.sent[w.sent.length - 1].seq, status, etag, status < 300 ? 3600 : undefined));
const start = (): W => ({ snap: undefined, ended: false, now: T0, timers: {}, sent: [] });

describe('message-waiting publication machine', () => {
  it('paces a burst into one initial PUBLISH, keeps the entity tag, modifies with it, refreshes at 90% of Expires', () => {
    let w = change(change(start(), 1, 0), 2, 0);
    assert.equal(w.sent.length, 0);
    w = fire(w, 'pace');
    assert.equal(w.sent.length, 1);
    assert.equal(w.sent[0].etag, null);
    assert.match(w.sent[0].body, /Text-Message: 2\/0/);
    w = answer(w, 200, 'e1');
    assert.equal(w.timers.refresh?.due, T0 + 1000 + 3_240_000);
    w = fire(change(w, 0, 2), 'pace');
    assert.equal(w.sent[1].etag, 'e1');
    assert.equal(w.sent[1].seq, 2, 'CSeq grows');
    w = fire(answer(w, 200, 'e2'), 'refresh');
    assert.equal(w.sent[2].etag, 'e2');
    assert.match(w.sent[2].body, /Text-Message: 0\/2/);
  });

  it('a change while a PUBLISH is out goes next; a stale answer changes nothing', () => {
    let w = fire(change(start(), 1, 0), 'pace');
    w = change(w, 2, 0);
    assert.equal(w.sent.length, 1, 'one at a time');
    const before = ctx(w);
    w = feed(w, ev.published(w.now, 99, 200, 'zz', 3600));
    assert.deepEqual(ctx(w), before, 'stale answer ignored');
    w = fire(answer(w, 200, 'e1'), 'pace');
    assert.equal(w.sent.length, 2);
    assert.match(w.sent[1].body, /2\/0/);
  });

  it('412 publishes afresh without the tag; other failures retry after retryMs', () => {
    let w = answer(fire(change(start(), 1, 0), 'pace'), 200, 'e1');
    w = fire(change(w, 2, 0), 'pace');
    w = answer(w, 412);
    assert.equal(w.sent[2].etag, null, 'initial PUBLISH again');
    w = answer(w, 503);
    assert.equal(w.timers.retry?.due, w.now + 30_000);
    w = fire(w, 'retry');
    assert.match(w.sent[3].body, /2\/0/);
  });

  it('0/0 removes the publication (Expires: 0) and ends the actor', () => {
    let w = answer(fire(change(start(), 1, 0), 'pace'), 200, 'e1');
    w = fire(change(w, 0, 0), 'pace');
    assert.equal(w.sent[1].expires, 0);
    assert.equal(w.sent[1].body, '');
    w = answer(w, 200, 'e2');
    assert.ok(w.ended);
    assert.ok(fire(change(start(), 0, 0), 'pace').ended, 'nothing published, nothing to publish: ends');
  });
});
