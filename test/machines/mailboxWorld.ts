/**
 * A pure, in-memory world around the mailbox machine for unit and model-based tests: the
 * machine is stepped with the runtime's own `Stepper`; `store.*` effects change an in-memory
 * message table; `mailbox.loadBatch` and `mailbox.sweep` answer at once from that table (as
 * the executor does after the commit); `mailbox.deliver` waits for a `reply` world event;
 * delayed raises become timers fired by `fire`/`advance`. Every function returns a new world,
 * so xstate/graph can traverse it (`fromTransition`).
 */
import type { AnyMachineSnapshot } from 'xstate';
import { Stepper } from '../../src/actors/stepper.js';
import type { MailboxMachine } from '../../src/machines/mailbox.js';
import type { MailboxEffect, MailboxStatsDelta, StoredMessage } from '../../src/machines/mailboxEffects.js';
import { mailboxEvents as ev, type MailboxContext, type MailboxEvent } from '../../src/machines/mailboxTypes.js';

export const AOR = 'sip:bob@parley.example';
export const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

export interface World {
  readonly snap: AnyMachineSnapshot | undefined;
  readonly db: Readonly<Record<number, StoredMessage>>;
  readonly timers: Readonly<Record<string, { due: number; event: MailboxEvent }>>;
  readonly now: number;
  /** Deliveries sent and not yet answered, in send order, with their send time. */
  readonly awaiting: ReadonlyArray<{ readonly seq: number; readonly at: number }>;
  /** Every `mailbox.deliver` (seq), in order; `ok` only those answered 2xx. */
  readonly sent: readonly number[];
  readonly ok: readonly number[];
  readonly responses: ReadonlyArray<readonly [string, number]>;
  readonly stats: Readonly<Record<string, number>>;
  readonly effects: readonly MailboxEffect[];
  readonly maxInflightSeen: number;
  /** Sequence of store requests made (refs). */
  readonly requests: number;
  /** What the registrar knows (the glue passes it with each store). */
  readonly userOnline: boolean;
}

export type WorldEvent =
  | { type: 'store'; sendAfter?: number; key?: string }
  | { type: 'online' }
  | { type: 'offline' }
  | { type: 'reply'; status: number }
  | { type: 'fire'; timer: 'check' | 'sweep' | 'reminder' | 'stall' }
  | { type: 'advance'; ms: number }
  | { type: 'admin-delete' }
  | { type: 'subscribe' }
  | { type: 'unsubscribe' };

export function emptyWorld(): World {
  return { snap: undefined, db: {}, timers: {}, now: T0, awaiting: [], sent: [], ok: [], responses: [], stats: {}, effects: [], maxInflightSeen: 0, requests: 0, userOnline: false };
}

export const ctxOf = (w: World): MailboxContext | undefined => w.snap?.context as MailboxContext | undefined;

/** A world stepper bound to one machine (one Stepper, reused like the runtime does). */
export function worldFor(machine: MailboxMachine) {
  const stepper = new Stepper(machine);

  function feed(w0: World, first: MailboxEvent, create: boolean, online: boolean): World {
    let w = w0;
    const queue: MailboxEvent[] = [first];
    while (queue.length > 0) {
      const event = queue.shift() as MailboxEvent;
      let snap = w.snap;
      let initialActions: ReturnType<Stepper['step']>[1] = [];
      if (snap === undefined) {
        if (!create) continue; // the supervisor answers 'absent'
        [snap, initialActions] = stepper.initial({ aor: AOR, online });
      }
      const [next, actions] = stepper.step(snap, event);
      if (next.status === 'error') throw next.error;
      const timers: Record<string, { due: number; event: MailboxEvent }> = { ...w.timers };
      const db: Record<number, StoredMessage> = { ...w.db };
      const stats: Record<string, number> = { ...w.stats };
      let { awaiting, sent, responses, effects } = w;
      for (const a of [...initialActions, ...actions]) {
        if (a.type === 'xstate.raise' && a.params.delay !== undefined) {
          timers[a.params.id as string] = { due: w.now + Number(a.params.delay), event: a.params.event as MailboxEvent };
        } else if (a.type === 'xstate.cancel') {
          delete timers[a.params.sendId as string];
        } else if (a.type === 'xstate.emit') {
          const e = a.params.event as MailboxEffect;
          effects = [...effects, e];
          switch (e.type) {
            case 'store.putMessage':
              db[e.message.seq] = e.message;
              break;
            case 'store.deleteMessages':
              for (const s of e.seqs) delete db[s];
              break;
            case 'store.addStats':
              for (const [k, v] of Object.entries(e.delta as MailboxStatsDelta)) stats[k] = (stats[k] ?? 0) + (v ?? 0);
              break;
            case 'mailbox.respond':
              responses = [...responses, [e.requestRef, e.status] as const];
              break;
            case 'mailbox.deliver':
              if (db[e.seq] === undefined) queue.push(ev.deliveryResult(w.now, e.seq, 0));
              else {
                awaiting = [...awaiting, { seq: e.seq, at: w.now }];
                sent = [...sent, e.seq];
              }
              break;
            case 'mailbox.loadBatch': {
              const seqs = Object.keys(db).map(Number).filter((s) => s > e.after).sort((a, b) => a - b);
              const page = seqs.slice(0, e.limit).map((s) => ({ seq: s, expiresAt: db[s].expiresAt, ...(db[s].sendAt !== undefined ? { sendAt: db[s].sendAt } : {}) }));
              queue.push(ev.batchLoaded(w.now, e.after, page, seqs.length <= e.limit));
              break;
            }
            case 'mailbox.sweep': {
              const all = Object.values(db);
              const expired = all.filter((m) => m.expiresAt <= w.now).map((m) => m.seq);
              const left = all.filter((m) => m.expiresAt > w.now);
              const nextExp = left.length ? Math.min(...left.map((m) => m.expiresAt)) : null;
              const future = left.filter((m) => m.sendAt !== undefined && m.sendAt > w.now).map((m) => m.sendAt as number);
              queue.push(ev.swept(w.now, expired.slice(0, e.limit), expired.length > e.limit, nextExp, future.length ? Math.min(...future) : null));
              break;
            }
            case 'mailbox.notifySender':
              break;
          }
        }
      }
      const done = next.status === 'done';
      const inflightNow = done ? 0 : (next.context as MailboxContext).inflight.length;
      w = {
        ...w,
        snap: done ? undefined : next,
        timers: done ? {} : timers,
        db,
        stats,
        awaiting,
        sent,
        responses,
        effects,
        maxInflightSeen: Math.max(w.maxInflightSeen, inflightNow),
      };
    }
    return w;
  }

  /**
   * Fires every timer due up to `until`, in due order, moving `now` along. Deliveries still
   * awaited when 32 s pass get 408 first, as the SIP layer's Timer F answers them.
   */
  function advanceTo(w0: World, until: number): World {
    let w = w0;
    for (;;) {
      const due = Object.entries(w.timers).filter(([, t]) => t.due <= until).sort((a, b) => a[1].due - b[1].due)[0];
      const first = w.awaiting[0];
      if (first !== undefined && first.at + 32_000 <= Math.min(until, due?.[1].due ?? Infinity)) {
        const at = first.at + 32_000;
        w = feed({ ...w, awaiting: w.awaiting.slice(1), now: Math.max(w.now, at) }, ev.deliveryResult(at, first.seq, 408), false, false);
        continue;
      }
      if (due === undefined) break;
      const [id, t] = due;
      const { [id]: _gone, ...rest } = w.timers;
      w = { ...w, timers: rest, now: Math.max(w.now, t.due) };
      w = feed(w, t.event, false, false);
    }
    return { ...w, now: Math.max(w.now, until) };
  }

  function step(w: World, e: WorldEvent): World {
    switch (e.type) {
      case 'store': {
        const ref = `r${w.requests + 1}`;
        const message = {
          ruri: AOR,
          from: '<sip:alice@example.com>',
          to: `<${AOR}>`,
          contentType: 'text/plain',
          body: Buffer.from(`hello ${w.requests + 1}`),
          callId: `c${w.requests + 1}`,
          cseq: 1,
          ...(e.sendAfter !== undefined ? { sendAt: w.now + e.sendAfter } : {}),
        };
        const online = w.userOnline;
        return feed({ ...w, requests: w.requests + 1 }, ev.store(w.now, message, [e.key ?? `k${w.requests + 1}`], online, ref), true, online);
      }
      case 'online':
        return feed({ ...w, userOnline: true }, ev.online(w.now), false, true);
      case 'offline':
        return feed({ ...w, userOnline: false }, ev.offline(w.now), false, false);
      case 'reply': {
        if (w.awaiting.length === 0) return w;
        const [{ seq }, ...rest] = w.awaiting;
        const next = { ...w, awaiting: rest, ok: e.status < 300 ? [...w.ok, seq] : w.ok };
        return feed(next, ev.deliveryResult(w.now, seq, e.status), false, false);
      }
      case 'fire': {
        const t = w.timers[e.timer];
        if (t === undefined) return w;
        // A stall means the answers were lost (restart): forget what was awaited.
        const base = e.timer === 'stall' ? { ...w, awaiting: [] } : w;
        return advanceTo(base, t.due);
      }
      case 'advance':
        return advanceTo(w, w.now + e.ms);
      case 'admin-delete': {
        const first = Object.keys(w.db).map(Number).sort((a, b) => a - b)[0];
        if (first === undefined) return w;
        return feed(w, ev.deleteMessages(w.now, [first]), false, false);
      }
      case 'subscribe':
        return feed(w, ev.subscribed(w.now, 's1'), true, false);
      case 'unsubscribe':
        return feed(w, ev.unsubscribed(w.now, 's1'), false, false);
    }
  }

  return { step, advanceTo, feed };
}

/** Invariants that must hold after every world step; returns a description of the first broken one. */
export function brokenInvariant(w: World, maxInFlight: number): string | undefined {
  const c = ctxOf(w);
  const stored = Object.keys(w.db).length;
  if (c === undefined) {
    if (stored !== 0) return `mailbox stopped with ${stored} messages stored`;
    if (Object.keys(w.timers).length !== 0) return 'timers left after stop';
    return undefined;
  }
  if (c.count !== stored) return `count ${c.count} but ${stored} stored`;
  if (c.inflight.length > maxInFlight) return `${c.inflight.length} in flight > ${maxInFlight}`;
  for (const id of ['check', 'sweep', 'reminder', 'stall'] as const) {
    const at = c[`${id}At`];
    const t = w.timers[id];
    if ((at === null) !== (t === undefined)) return `${id}At=${at} but timer ${t ? t.due : 'absent'}`;
    if (t && at !== t.due) return `${id}At=${at} but timer due ${t.due}`;
  }
  if (new Set(w.ok).size !== w.ok.length) return `a message was delivered (2xx) twice: ${w.ok}`;
  for (const s of w.ok) if (w.db[s] !== undefined) return `message ${s} delivered but still stored`;
  if (c.count > 0 && c.sweepAt === null && !c.sweeping) return 'messages stored but no expiry sweep armed';
  if (JSON.stringify(c).length > 4096) return 'context grew beyond 4 KB';
  return undefined;
}
