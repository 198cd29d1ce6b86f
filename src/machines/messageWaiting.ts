/**
 * Text message-waiting (RFC 3842 `Event: message-summary` with RFC 3458 `Text-Message`
 * counts): one actor per user AoR, the notifier for that user's mailbox. It keeps the
 * subscriptions (plain data, in the snapshot), answers SUBSCRIBEs, NOTIFYs the summary at once
 * after every accepted SUBSCRIBE (RFC 6665 4.2.1.2) and again on every change of the counts,
 * and ends each subscription at its expiry (a durable timer per subscription).
 *
 * Rate control (RFC 6665 4.2.2 lets a notifier limit its NOTIFY rate): a change arms a short
 * `notify` timer (`minIntervalMs`, 1 s by default) and the NOTIFY carries the counts of that
 * moment, so a burst of stores (or the reads of a fetch) costs one NOTIFY, not one each.
 *
 * The SIP subscription rules (Expires, Event, Accept, CSeq of the NOTIFYs) are pure functions
 * of `src/transport/sip/subscription.ts`; machines do not import transport code, so they are
 * handed in as `SubscriptionOps` (the actor kind wires them) and the subscription state is
 * opaque here. While it has subscribers the actor asks the mailbox to report changes
 * (`mwi.watch`: the mailbox's SUBSCRIBED/UNSUBSCRIBED); it ends with its last subscription.
 */
import { enqueueActions, setup } from 'xstate';
import { buildMessageSummary, textMessageSummary } from '../formats/messageSummary.js';

/** An answer to give to a SUBSCRIBE. */
export interface SubscribeAnswerData {
  readonly status: number;
  readonly reason?: string;
  readonly headers: ReadonlyArray<{ readonly name: string; readonly value: string }>;
}

/** The pure subscription rules, injected (see the file comment). `S` is a subscription. */
export interface SubscriptionOps {
  accept(request: unknown, localTag: string, now: number): { ok: boolean; answer: SubscribeAnswerData; subscription?: unknown };
  refresh(sub: unknown, request: unknown, now: number): { ok: boolean; answer: SubscribeAnswerData; subscription?: unknown };
  /** A NOTIFY with this body: the new subscription state (CSeq advanced) and the request. */
  notify(sub: unknown, contentType: string, body: string, now: number): { subscription: unknown; request: unknown; dialog: unknown };
  expire(sub: unknown, now: number): unknown;
  expiresAt(sub: unknown): number;
  terminated(sub: unknown): boolean;
  /** The subscription's dialog as a string key (in-dialog SUBSCRIBEs name it). */
  dialogKey(sub: unknown): string;
}

export interface MessageWaitingInput {
  readonly aor: string;
  /** Message-Account: the fetch address. */
  readonly account: string;
  /** Most subscriptions per user (every count is limited). */
  readonly maxSubscriptions: number;
  /** Changes within this window share one NOTIFY (ms). */
  readonly minIntervalMs: number;
}

export interface Counts {
  readonly newCount: number;
  readonly oldCount: number;
}

export interface MessageWaitingContext extends MessageWaitingInput {
  /** Subscriptions by local id (`s1`, `s2`...: short timer ids). */
  readonly subs: Readonly<Record<string, unknown>>;
  readonly nextId: number;
  /** The counts last sent. */
  readonly counts: Counts;
  /** The mailbox was asked to report changes. */
  readonly watching: boolean;
  /** Counts reported since the last NOTIFY, sent when `notifyAt` falls due. */
  readonly pending: Counts | null;
  readonly notifyAt: number | null;
}

export type MessageWaitingEvent =
  | { type: 'SUBSCRIBE_RECEIVED'; at: number; requestRef: string; request: unknown; localTag: string; counts: Counts; input: MessageWaitingInput }
  | { type: 'REFRESH_RECEIVED'; at: number; requestRef: string; request: unknown; dialogKey: string }
  | { type: 'COUNTS_CHANGED'; at: number; counts: Counts }
  | { type: 'NOTIFY_DUE'; at: number }
  | { type: 'EXPIRE_DUE'; at: number; id: string }
  | { type: 'NOTIFY_FAILED'; at: number; id: string };

export const messageWaitingEvents = {
  subscribe: (at: number, requestRef: string, request: unknown, localTag: string, counts: Counts, input: MessageWaitingInput) =>
    ({ type: 'SUBSCRIBE_RECEIVED', at, requestRef, request, localTag, counts, input }) as const,
  refresh: (at: number, requestRef: string, request: unknown, dialogKey: string) => ({ type: 'REFRESH_RECEIVED', at, requestRef, request, dialogKey }) as const,
  countsChanged: (at: number, counts: Counts) => ({ type: 'COUNTS_CHANGED', at, counts }) as const,
  notifyDue: (at: number) => ({ type: 'NOTIFY_DUE', at }) as const,
  expireDue: (at: number, id: string) => ({ type: 'EXPIRE_DUE', at, id }) as const,
  notifyFailed: (at: number, id: string) => ({ type: 'NOTIFY_FAILED', at, id }) as const,
};

export const mwiRespond = (requestRef: string, answer: SubscribeAnswerData) => ({ type: 'mwi.respond', requestRef, answer }) as const;
export const mwiNotify = (aor: string, id: string, request: unknown, dialog: unknown) => ({ type: 'mwi.notify', aor, id, request, dialog }) as const;
export const mwiWatch = (aor: string, on: boolean) => ({ type: 'mwi.watch', aor, on }) as const;
export type MessageWaitingEffect = ReturnType<typeof mwiRespond> | ReturnType<typeof mwiNotify> | ReturnType<typeof mwiWatch>;
export const MESSAGE_WAITING_EFFECT_TYPES = ['mwi.respond', 'mwi.notify', 'mwi.watch'] as const;

export const SIMPLE_MESSAGE_SUMMARY = 'application/simple-message-summary';

const timerOf = (id: string) => `exp:${id}`;
const NOTIFY_TIMER = 'notify';
/** Whether two summaries say the same (what a NOTIFY or PUBLISH would repeat). */
export const same = (a: Counts, b: Counts) => a.newCount === b.newCount && a.oldCount === b.oldCount;

export function createMessageWaitingMachine(ops: SubscriptionOps) {
  type Enqueue = { assign(c: Partial<MessageWaitingContext>): void; emit(e: MessageWaitingEffect): void; raise(e: MessageWaitingEvent, o: { id: string; delay: number }): void; cancel(id: string): void };

  /** NOTIFYs `ids` with the current counts; returns the subscriptions that remain (terminated ones are dropped after their NOTIFY). */
  function notifyAll(ctx: MessageWaitingContext, subs: Record<string, unknown>, ids: readonly string[], at: number, enqueue: Enqueue): Record<string, unknown> {
    const body = buildMessageSummary(textMessageSummary(ctx.account, ctx.counts.newCount, ctx.counts.oldCount));
    const out = { ...subs };
    for (const id of ids) {
      const sub = out[id];
      if (sub === undefined) continue;
      const n = ops.notify(sub, SIMPLE_MESSAGE_SUMMARY, body, at);
      enqueue.emit(mwiNotify(ctx.aor, id, n.request, n.dialog));
      if (ops.terminated(n.subscription)) {
        delete out[id];
        enqueue.cancel(timerOf(id));
      } else out[id] = n.subscription;
    }
    return out;
  }

  /** Keeps the mailbox watch in step with having subscriptions. */
  function settle(ctx: MessageWaitingContext, subs: Record<string, unknown>, enqueue: Enqueue): void {
    const any = Object.keys(subs).length > 0;
    if (any !== ctx.watching) enqueue.emit(mwiWatch(ctx.aor, any));
    enqueue.assign({ subs, watching: any });
  }

  function arm(id: string, sub: unknown, at: number, enqueue: Enqueue): void {
    const due = ops.expiresAt(sub);
    enqueue.raise(messageWaitingEvents.expireDue(due, id), { id: timerOf(id), delay: Math.max(0, due - at) });
  }

  return setup({
    types: {
      context: {} as MessageWaitingContext,
      input: {} as MessageWaitingInput,
      events: {} as MessageWaitingEvent,
      emitted: {} as MessageWaitingEffect,
    },
    guards: {
      empty: ({ context }) => Object.keys(context.subs).length === 0,
    },
    actions: {
      subscribe: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'SUBSCRIBE_RECEIVED') return;
        const e = enqueue as unknown as Enqueue;
        const d = ops.accept(event.request, event.localTag, event.at);
        if (!d.ok || d.subscription === undefined) return void e.emit(mwiRespond(event.requestRef, d.answer));
        if (Object.keys(context.subs).length >= context.maxSubscriptions && !ops.terminated(d.subscription)) {
          return void e.emit(mwiRespond(event.requestRef, { status: 403, reason: 'Forbidden - too many subscriptions', headers: [] }));
        }
        e.emit(mwiRespond(event.requestRef, d.answer));
        const id = `s${context.nextId}`;
        const ctx = { ...context, counts: event.counts };
        let subs: Record<string, unknown> = { ...context.subs, [id]: d.subscription };
        e.assign({ nextId: context.nextId + 1, counts: event.counts });
        subs = notifyAll(ctx, subs, [id], event.at, e);
        // The counts may have changed for the others too (read just now by the application).
        const others = Object.keys(subs).filter((x) => x !== id);
        if (!same(event.counts, context.counts)) subs = notifyAll(ctx, subs, others, event.at, e);
        if (subs[id] !== undefined) arm(id, subs[id], event.at, e);
        settle(context, subs, e);
      }),
      refresh: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'REFRESH_RECEIVED') return;
        const e = enqueue as unknown as Enqueue;
        const id = Object.keys(context.subs).find((x) => ops.dialogKey(context.subs[x]) === event.dialogKey);
        if (id === undefined) return void e.emit(mwiRespond(event.requestRef, { status: 481, reason: 'Subscription Does Not Exist', headers: [] }));
        const d = ops.refresh(context.subs[id], event.request, event.at);
        e.emit(mwiRespond(event.requestRef, d.answer));
        if (!d.ok || d.subscription === undefined) return;
        let subs: Record<string, unknown> = { ...context.subs, [id]: d.subscription };
        subs = notifyAll(context, subs, [id], event.at, e);
        if (subs[id] !== undefined) arm(id, subs[id], event.at, e);
        settle(context, subs, e);
      }),
      changed: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'COUNTS_CHANGED') return;
        const e = enqueue as unknown as Enqueue;
        e.assign({ pending: event.counts });
        if (context.notifyAt !== null) return;
        const notifyAt = event.at + context.minIntervalMs;
        e.assign({ notifyAt });
        e.raise(messageWaitingEvents.notifyDue(notifyAt), { id: NOTIFY_TIMER, delay: context.minIntervalMs });
      }),
      notifyDue: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'NOTIFY_DUE') return;
        const e = enqueue as unknown as Enqueue;
        const counts = context.pending;
        e.assign({ notifyAt: null, pending: null });
        if (counts === null || same(counts, context.counts)) return;
        const ctx = { ...context, counts };
        e.assign({ counts });
        settle(context, notifyAll(ctx, { ...context.subs }, Object.keys(context.subs), event.at, e), e);
      }),
      expire: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'EXPIRE_DUE') return;
        const e = enqueue as unknown as Enqueue;
        const sub = context.subs[event.id];
        if (sub === undefined) return;
        const next = ops.expire(sub, event.at);
        let subs: Record<string, unknown> = { ...context.subs, [event.id]: next };
        if (ops.terminated(next)) subs = notifyAll(context, subs, [event.id], event.at, e);
        else arm(event.id, next, event.at, e); // refreshed meanwhile: a stale timer
        settle(context, subs, e);
      }),
      drop: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'NOTIFY_FAILED') return;
        const e = enqueue as unknown as Enqueue;
        const { [event.id]: _gone, ...subs } = context.subs;
        e.cancel(timerOf(event.id));
        settle(context, subs, e);
      }),
    },
  }).createMachine({
    id: 'messageWaiting',
    context: ({ input }) => ({ ...input, subs: {}, nextId: 1, counts: { newCount: 0, oldCount: 0 }, watching: false, pending: null, notifyAt: null }),
    initial: 'fresh',
    states: {
      // Created by its first SUBSCRIBE: handle it before deciding whether anything is left.
      fresh: {
        on: {
          SUBSCRIBE_RECEIVED: { target: 'active', actions: 'subscribe' },
          '*': { target: 'active' },
        },
      },
      active: {
        always: { guard: 'empty', target: 'done' },
        on: {
          SUBSCRIBE_RECEIVED: { actions: 'subscribe' },
          REFRESH_RECEIVED: { actions: 'refresh' },
          COUNTS_CHANGED: { actions: 'changed' },
          NOTIFY_DUE: { actions: 'notifyDue' },
          EXPIRE_DUE: { actions: 'expire' },
          NOTIFY_FAILED: { actions: 'drop' },
        },
      },
      done: { type: 'final' },
    },
  });
}
