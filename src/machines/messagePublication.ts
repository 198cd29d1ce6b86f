/**
 * Text message-waiting published instead of notified (the configurable alternative of issue
 * 7): one actor per user AoR keeps the user's `message-summary` state published at the
 * proxy's presence server with RFC 3903 PUBLISH, which then serves the subscribers itself.
 *
 * - a change of the counts (COUNTS_CHANGED) arms a short pacing timer (a burst of stores is one
 *   PUBLISH); PACE_DUE publishes the latest counts: initial (no entity tag), or a modify with
 *   `SIP-If-Match` once the server gave one (RFC 3903 4.4);
 * - one PUBLISH at a time, matched by its number; a 2xx keeps the new entity tag and arms the
 *   refresh before the granted Expires; 412 (the server forgot the tag) publishes afresh;
 *   other failures retry after `retryMs`;
 * - counts 0/0 remove the publication (Expires: 0) and end the actor.
 */
import { enqueueActions, setup } from 'xstate';
import { buildMessageSummary, textMessageSummary } from '../formats/messageSummary.js';
import { same, SIMPLE_MESSAGE_SUMMARY, type Counts } from './messageWaiting.js';

export interface MessagePublicationInput {
  readonly aor: string;
  readonly account: string;
  /** Expires asked for (s). */
  readonly expires: number;
  readonly paceMs: number;
  readonly retryMs: number;
  /** Call-ID and From tag of every PUBLISH of this publication (CSeq = the PUBLISH number), as REGISTER does. */
  readonly callId: string;
  readonly fromTag: string;
}

export interface MessagePublicationContext extends MessagePublicationInput {
  readonly etag: string | null;
  /** Counts of the last 2xx'd PUBLISH. */
  readonly published: Counts | null;
  /** Counts to publish next (null: nothing new). */
  readonly pending: Counts | null;
  /** Counts of the PUBLISH in flight. */
  readonly sending: Counts | null;
  /** Number of the PUBLISH in flight (0: none). */
  readonly inFlight: number;
  readonly seq: number;
  readonly paceAt: number | null;
  readonly refreshAt: number | null;
  readonly retryAt: number | null;
}

export type MessagePublicationEvent =
  | { type: 'COUNTS_CHANGED'; at: number; counts: Counts; input: MessagePublicationInput }
  | { type: 'PACE_DUE'; at: number }
  | { type: 'REFRESH_DUE'; at: number }
  | { type: 'RETRY_DUE'; at: number }
  | { type: 'PUBLISHED'; at: number; seq: number; status: number; etag?: string; expires?: number };

export const messagePublicationEvents = {
  countsChanged: (at: number, counts: Counts, input: MessagePublicationInput) => ({ type: 'COUNTS_CHANGED', at, counts, input }) as const,
  paceDue: (at: number) => ({ type: 'PACE_DUE', at }) as const,
  refreshDue: (at: number) => ({ type: 'REFRESH_DUE', at }) as const,
  retryDue: (at: number) => ({ type: 'RETRY_DUE', at }) as const,
  published: (at: number, seq: number, status: number, etag?: string, expires?: number) =>
    ({ type: 'PUBLISHED', at, seq, status, ...(etag !== undefined ? { etag } : {}), ...(expires !== undefined ? { expires } : {}) }) as const,
};

/** Send a PUBLISH for `aor` (answer PUBLISHED with `seq`). `expires` 0 removes the publication. */
export const mwiPublish = (aor: string, callId: string, fromTag: string, seq: number, etag: string | null, contentType: string, body: string, expires: number) =>
  ({ type: 'mwipub.publish', aor, callId, fromTag, seq, etag, contentType, body, expires }) as const;
export type MessagePublicationEffect = ReturnType<typeof mwiPublish>;
export const MESSAGE_PUBLICATION_EFFECT_TYPES = ['mwipub.publish'] as const;

const T = { pace: 'pace', refresh: 'refresh', retry: 'retry' } as const;
const zero = (c: Counts) => c.newCount === 0 && c.oldCount === 0;

type Ctx = MessagePublicationContext;
type Enqueue = { assign(c: Partial<Ctx>): void; emit(e: MessagePublicationEffect): void; raise(e: MessagePublicationEvent, o: { id: string; delay: number }): void; cancel(id: string): void };

/** Sends `counts` (a removal when 0/0 and something is published). */
function send(c: Ctx, counts: Counts, enqueue: Enqueue): void {
  const seq = c.seq + 1;
  const remove = zero(counts) && c.etag !== null;
  const body = remove ? '' : buildMessageSummary(textMessageSummary(c.account, counts.newCount, counts.oldCount));
  enqueue.cancel(T.refresh);
  enqueue.cancel(T.retry);
  enqueue.assign({ seq, inFlight: seq, sending: counts, pending: null, refreshAt: null, retryAt: null });
  enqueue.emit(mwiPublish(c.aor, c.callId, c.fromTag, seq, c.etag, SIMPLE_MESSAGE_SUMMARY, body, remove ? 0 : c.expires));
}

export const messagePublicationMachine = setup({
  types: {
    context: {} as Ctx,
    input: {} as MessagePublicationInput,
    events: {} as MessagePublicationEvent,
    emitted: {} as MessagePublicationEffect,
  },
  guards: {
    // Nothing published and nothing to publish: the actor has no reason to exist.
    idleEmpty: ({ context }) =>
      context.inFlight === 0 && context.etag === null && context.paceAt === null && context.retryAt === null && (context.pending === null || zero(context.pending)),
  },
  actions: {
    changed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'COUNTS_CHANGED') return;
      const e = enqueue as unknown as Enqueue;
      e.assign({ pending: event.counts });
      if (context.paceAt !== null || context.inFlight !== 0) return;
      const paceAt = event.at + context.paceMs;
      e.assign({ paceAt });
      e.raise(messagePublicationEvents.paceDue(paceAt), { id: T.pace, delay: context.paceMs });
    }),
    paced: enqueueActions(({ context, enqueue }) => {
      const e = enqueue as unknown as Enqueue;
      e.assign({ paceAt: null });
      const counts = context.pending;
      if (counts === null || context.inFlight !== 0) return;
      if (context.published !== null && same(counts, context.published)) return void e.assign({ pending: null });
      // Waiting to retry a failed PUBLISH: the retry carries these counts.
      if (context.retryAt !== null) return;
      if (zero(counts) && context.etag === null) return void e.assign({ pending: null });
      send(context, counts, e);
    }),
    refresh: enqueueActions(({ context, enqueue }) => {
      const e = enqueue as unknown as Enqueue;
      e.assign({ refreshAt: null, retryAt: null });
      if (context.inFlight !== 0) return;
      send(context, context.pending ?? context.sending ?? context.published ?? { newCount: 0, oldCount: 0 }, e);
    }),
    result: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PUBLISHED' || event.seq !== context.inFlight) return; // a stale answer
      const e = enqueue as unknown as Enqueue;
      const sent = context.sending ?? { newCount: 0, oldCount: 0 };
      e.assign({ inFlight: 0, sending: null });
      if (event.status >= 200 && event.status < 300) {
        if (zero(sent)) e.assign({ etag: null, published: null });
        else {
          const expires = event.expires ?? context.expires;
          // Refresh at 90% of the granted time (never under a second).
          const delay = Math.max(1000, Math.floor(expires * 900));
          e.assign({ etag: event.etag ?? context.etag, published: sent, refreshAt: event.at + delay });
          e.raise(messagePublicationEvents.refreshDue(event.at + delay), { id: T.refresh, delay });
        }
        // A change that came while this PUBLISH was out goes next, paced.
        if (context.pending !== null && context.paceAt === null) {
          const paceAt = event.at + context.paceMs;
          e.assign({ paceAt });
          e.raise(messagePublicationEvents.paceDue(paceAt), { id: T.pace, delay: context.paceMs });
        }
        return;
      }
      if (event.status === 412) {
        // RFC 3903 6: the entity tag is unknown to the server: publish the state afresh.
        send({ ...context, etag: null, inFlight: 0 }, context.pending ?? sent, e);
        return e.assign({ etag: null });
      }
      e.assign({ retryAt: event.at + context.retryMs, pending: context.pending ?? sent });
      e.raise(messagePublicationEvents.retryDue(event.at + context.retryMs), { id: T.retry, delay: context.retryMs });
    }),
  },
}).createMachine({
  id: 'messagePublication',
  context: ({ input }) => ({ ...input, etag: null, published: null, pending: null, sending: null, inFlight: 0, seq: 0, paceAt: null, refreshAt: null, retryAt: null }),
  initial: 'fresh',
  states: {
    fresh: {
      on: {
        COUNTS_CHANGED: { target: 'active', actions: 'changed' },
        '*': { target: 'active' },
      },
    },
    active: {
      always: { guard: 'idleEmpty', target: 'done' },
      on: {
        COUNTS_CHANGED: { actions: 'changed' },
        PACE_DUE: { actions: 'paced' },
        REFRESH_DUE: { actions: 'refresh' },
        RETRY_DUE: { actions: 'refresh' },
        PUBLISHED: { actions: 'result' },
      },
    },
    done: { type: 'final' },
  },
});
