/**
 * A pure, in-memory world around the offline-session machine for model-based tests: the
 * machine is stepped with the runtime's own `Stepper`; delayed raises become timers; the
 * caller's MSRP transactions and the mailbox's commits are world state, so a path can
 * interleave "SEND", "mailbox commits it", "restart" and "grace window over" in any order.
 * Every function returns a new world (xstate/graph traverses it with `fromTransition`).
 */
import type { AnyMachineSnapshot } from 'xstate';
import { Stepper } from '../../src/actors/stepper.js';
import { offlineSessionMachine, type OfflineSessionContext } from '../../src/machines/offlineSession.js';
import { offlineSessionEvents as ev, type OfflineSessionEffect, type OfflineSessionEvent, type OfflineSessionInput } from '../../src/machines/offlineSessionEffects.js';

export const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
export const GRACE_MS = 90_000;

export const INPUT: OfflineSessionInput = {
  key: 'call-1;tag-1',
  callee: 'sip:bob@parley.example',
  caller: 'sip:alice@example.com',
  dialog: { callId: 'call-1' },
  greeting: 'I am offline but you can type a message',
  graceMs: GRACE_MS,
  maxMessages: 2,
};

export interface World {
  readonly snap: AnyMachineSnapshot | undefined;
  /** The actor ended (its snapshot deleted). */
  readonly ended: boolean;
  readonly now: number;
  readonly offeredAt: number | null;
  readonly timers: Readonly<Record<string, { due: number; event: OfflineSessionEvent }>>;
  /** The caller's MSRP connection is up (lost on a restart). */
  readonly connected: boolean;
  /** SENDs written by the caller (refs in order). */
  readonly sent: readonly string[];
  /** SENDs handed to the mailbox, not yet committed there (lost on a restart: never answered). */
  readonly storing: readonly string[];
  /** SENDs whose store a restart lost before the mailbox committed it (never answered). */
  readonly lost: readonly string[];
  /** SENDs in the mailbox (committed). */
  readonly mailbox: readonly string[];
  /** Answers to SENDs: ref -> MSRP status. */
  readonly answers: Readonly<Record<string, number>>;
  readonly inviteAnswers: number;
  readonly greetings: number;
  readonly greetedBeforeConnect: boolean;
  readonly byesSent: number;
  readonly byeAnswers: number;
  readonly msrpClosed: number;
  /** The caller hung up (its BYE). */
  readonly callerBye: boolean;
  /** The INVITE was cancelled before the answer went out. */
  readonly cancelled: boolean;
}

export type WorldEvent =
  | { type: 'offer' }
  | { type: 'ack' }
  | { type: 'connect' }
  | { type: 'send' }
  | { type: 'commit' }
  | { type: 'bye' }
  | { type: 'lost' }
  | { type: 'fire' }
  | { type: 'advance'; ms: number }
  | { type: 'restart' }
  | { type: 'cancel' };

export function emptyWorld(): World {
  return {
    snap: undefined, ended: false, now: T0, offeredAt: null, timers: {}, connected: false, sent: [], storing: [], lost: [], mailbox: [], answers: {},
    inviteAnswers: 0, greetings: 0, greetedBeforeConnect: false, byesSent: 0, byeAnswers: 0, msrpClosed: 0, callerBye: false, cancelled: false,
  };
}

export const ctxOf = (w: World): OfflineSessionContext | undefined => w.snap?.context as OfflineSessionContext | undefined;

const stepper = new Stepper(offlineSessionMachine);

/** Delivers one machine event as the supervisor would (creation only by OFFERED; a final state deletes). */
function deliver(w0: World, event: OfflineSessionEvent): World {
  if (w0.ended) return w0;
  let snap = w0.snap;
  let initial: ReturnType<Stepper['step']>[1] = [];
  if (snap === undefined) {
    if (event.type !== 'OFFERED') return w0; // 'absent'
    [snap, initial] = stepper.initial(event.session);
  }
  const [next, actions] = stepper.step(snap, event);
  if (next.status === 'error') throw next.error;
  let w: World = { ...w0, snap: next };
  const timers = { ...w.timers };
  for (const a of [...initial, ...actions]) {
    if (a.type === 'xstate.raise' && a.params.delay !== undefined) timers[a.params.id as string] = { due: w.now + Number(a.params.delay), event: a.params.event as OfflineSessionEvent };
    else if (a.type === 'xstate.cancel') delete timers[a.params.sendId as string];
    else if (a.type === 'xstate.emit') w = perform(w, a.params.event as OfflineSessionEffect);
  }
  if (next.status === 'done') return { ...w, snap: undefined, ended: true, timers: {} };
  return { ...w, timers };
}

function perform(w: World, e: OfflineSessionEffect): World {
  switch (e.type) {
    case 'offline.answer':
      return { ...w, inviteAnswers: w.inviteAnswers + 1 };
    case 'offline.greet':
      return { ...w, greetings: w.greetings + 1, greetedBeforeConnect: w.greetedBeforeConnect || !w.connected };
    case 'offline.store':
      return { ...w, storing: [...w.storing, e.ref] };
    case 'offline.refuseMessage':
      return { ...w, answers: { ...w.answers, [e.ref]: e.status } };
    case 'offline.respond':
      return { ...w, byeAnswers: w.byeAnswers + 1 };
    case 'offline.bye':
      return { ...w, byesSent: w.byesSent + 1 };
    case 'offline.closeMsrp':
      return { ...w, msrpClosed: w.msrpClosed + 1, connected: false };
    case 'offline.ended':
      return w;
  }
}

export function step(w: World, e: WorldEvent): World {
  switch (e.type) {
    case 'offer':
      return deliver({ ...w, offeredAt: w.now }, ev.offered(w.now, 'invite', INPUT));
    case 'ack':
      return deliver(w, ev.ackReceived(w.now));
    case 'connect':
      return deliver({ ...w, connected: true }, ev.msrpConnected(w.now));
    case 'send': {
      const ref = `m${w.sent.length + 1}`;
      const w1 = { ...w, sent: [...w.sent, ref] };
      const w2 = deliver(w1, ev.messageReceived(w.now, ref, { ruri: INPUT.callee, from: `<${INPUT.caller}>`, to: `<${INPUT.callee}>`, contentType: 'text/plain', body: Buffer.from(ref), callId: 'call-1', cseq: 0 }, [ref]));
      // The application answers 481 when the session is gone.
      return w2 === w1 ? { ...w2, answers: { ...w2.answers, [ref]: 481 } } : w2;
    }
    case 'commit': {
      const [ref, ...rest] = w.storing;
      if (ref === undefined) return w;
      return { ...w, storing: rest, mailbox: [...w.mailbox, ref], answers: { ...w.answers, [ref]: 200 } };
    }
    case 'bye':
      return deliver({ ...w, callerBye: w.callerBye || w.snap !== undefined }, ev.byeReceived(w.now, 'bye'));
    case 'lost':
      return deliver({ ...w, connected: false }, ev.msrpClosed(w.now, 'connection-lost'));
    case 'fire': {
      const t = w.timers.grace;
      if (t === undefined) return w;
      const { grace: _g, ...rest } = w.timers;
      return deliver({ ...w, now: Math.max(w.now, t.due), timers: rest }, t.event);
    }
    case 'advance': {
      let x: World = { ...w, now: w.now + e.ms };
      const t = x.timers.grace;
      if (t !== undefined && t.due <= x.now) x = step({ ...x, now: t.due }, { type: 'fire' });
      return { ...x, now: w.now + e.ms };
    }
    case 'cancel':
      return deliver({ ...w, cancelled: w.snap !== undefined && (ctxOf(w)?.stored ?? 0) === 0 ? true : w.cancelled }, ev.cancelled(w.now));
    case 'restart': {
      // The process dies: live MSRP and unanswered stores are gone; snapshot and timers stay.
      const lost = [...w.lost, ...w.storing];
      if (w.snap === undefined) return { ...w, connected: false, storing: [], lost };
      const c = w.snap.context as OfflineSessionContext;
      return { ...w, snap: stepper.restore(w.snap.value, c), connected: false, storing: [], lost };
    }
  }
}

/** The first invariant a world breaks, or undefined. */
export function brokenInvariant(w: World): string | undefined {
  const c = ctxOf(w);
  if (w.inviteAnswers > 1) return 'INVITE answered more than once';
  for (const [ref, status] of Object.entries(w.answers)) if (status === 200 && !w.mailbox.includes(ref)) return `${ref} answered 200 but not in the mailbox`;
  for (const ref of w.mailbox) if (w.mailbox.indexOf(ref) !== w.mailbox.lastIndexOf(ref)) return `${ref} stored twice`;
  if (w.greetings > 1) return 'greeted twice';
  if (w.greetedBeforeConnect) return 'greeted before the MSRP connection was up';
  if (w.mailbox.length + w.storing.length > INPUT.maxMessages) return 'more messages than the per-session limit';
  if (c !== undefined) {
    const t = w.timers.grace;
    if (w.snap?.matches('open')) {
      if (t === undefined) return 'open without a grace timer';
      if (c.closesAt !== t.due || w.offeredAt === null || t.due !== w.offeredAt + GRACE_MS) return 'grace deadline not offer + 90 s';
      if (w.byesSent > 0) return 'BYE sent while open';
    }
  }
  if (w.ended) {
    if (Object.keys(w.timers).length > 0) return 'timer left after the end';
    if (w.msrpClosed !== 1) return 'MSRP not closed exactly once';
    if (w.callerBye && (w.byeAnswers !== 1 || w.byesSent !== 0)) return 'caller BYE not answered once, or BYE sent after it';
    if (w.cancelled && w.byesSent !== 0) return 'BYE sent for a cancelled INVITE';
    if (!w.callerBye && !w.cancelled && w.byesSent !== 1) return 'ended without exactly one BYE';
    if (w.offeredAt !== null && w.byesSent === 1 && !w.callerBye && w.now > w.offeredAt + GRACE_MS) return 'BYE later than the grace window';
  }
  // Every SEND is answered, or waits for the mailbox's commit, or was lost unanswered in a restart.
  for (const ref of w.sent) {
    const places = [w.answers[ref] !== undefined, w.storing.includes(ref), w.lost.includes(ref)].filter(Boolean).length;
    if (places !== 1) return `${ref} is ${places === 0 ? 'neither answered nor pending' : 'both answered and pending'}`;
  }
  return undefined;
}
