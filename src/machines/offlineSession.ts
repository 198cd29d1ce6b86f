/**
 * One offline chat session: an MSRP chat INVITE for an offline user, answered by Parley on the
 * user's behalf (PROTOCOLS.md "Offline messaging", the SylkServer approach). Pure: it decides
 * and emits `offline.*` effects; the offline application performs them after the commit.
 *
 * - `answering` (created by OFFERED): answer 200, arm the grace window (default 90 s) as a
 *   durable timer whose deadline is also kept in context (`closesAt`), go `open`;
 * - `open`: the greeting goes out once the caller's MSRP connection is up; every complete SEND
 *   is handed to the callee's mailbox (`offline.store`); the window's end sends BYE;
 *   the caller's BYE, or the loss of the MSRP connection, ends it earlier;
 * - `ended` (final): the runtime deletes the snapshot and the timer.
 *
 * Where a written message goes, and why it is not lost: the session does not write into the
 * mailbox's database itself. `offline.store` makes the application dispatch STORE_MESSAGE to
 * the callee's mailbox actor, and the MSRP 200 is sent by the mailbox's own `mailbox.respond`
 * effect, i.e. only after the mailbox committed the message with its snapshot. The mailbox
 * stays the one owner of its sequence numbers, counts, quota and duplicate index (a direct
 * write from here would race its `nextSeq` and `count`). If the process dies between the
 * session's commit and the mailbox's, the SEND was never answered 200: the caller's client
 * sees it failed, nothing acknowledged is lost; `stored` in this context is then one too high,
 * which only affects the visualizer summary.
 *
 * After a restart the MSRP session is gone but the dialog is data in the snapshot: the grace
 * timer is re-armed by the runtime with what remains and the BYE still goes out on time.
 */
import { enqueueActions, setup } from 'xstate';
import {
  GRACE_TIMER,
  offlineAnswer,
  offlineBye,
  offlineCloseMsrp,
  offlineEnded,
  offlineGreet,
  offlineRefuseMessage,
  offlineRespond,
  offlineSessionEvents as ev,
  offlineStore,
  type OfflineSessionEffect,
  type OfflineSessionEvent,
  type OfflineSessionInput,
} from './offlineSessionEffects.js';

export interface OfflineSessionContext extends OfflineSessionInput {
  /** When the grace window ends (ms since epoch); null until answered. */
  readonly closesAt: number | null;
  readonly acked: boolean;
  readonly greeted: boolean;
  /** SENDs handed to the mailbox. */
  readonly stored: number;
  /** Why it ended (`grace`, `bye`, `msrp:<reason>`), for the log and the visualizer. */
  readonly endReason: string | null;
}

/** MSRP status for a SEND beyond the per-session limit (RFC 4975 403: action not allowed). */
export const TOO_MANY = { status: 403, comment: 'Too many messages in this session' } as const;

export const offlineSessionMachine = setup({
  types: {
    context: {} as OfflineSessionContext,
    input: {} as OfflineSessionInput,
    events: {} as OfflineSessionEvent,
    emitted: {} as OfflineSessionEffect,
  },
  guards: {
    underLimit: ({ context }) => context.stored < context.maxMessages,
  },
  actions: {
    answer: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'OFFERED') return;
      const closesAt = event.at + context.graceMs;
      enqueue.assign({ closesAt });
      enqueue.emit(offlineAnswer(context.key, event.requestRef));
      enqueue.raise(ev.graceEnded(closesAt), { id: GRACE_TIMER, delay: context.graceMs });
    }),
    ack: enqueueActions(({ enqueue }) => enqueue.assign({ acked: true })),
    greet: enqueueActions(({ context, enqueue }) => {
      if (context.greeted) return; // a reconnect does not greet twice
      enqueue.assign({ greeted: true });
      enqueue.emit(offlineGreet(context.key, context.greeting));
    }),
    store: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'MESSAGE_RECEIVED') return;
      enqueue.assign({ stored: context.stored + 1 });
      enqueue.emit(offlineStore(context.key, event.ref, context.callee, event.message, event.dedupKeys));
    }),
    refuseTooMany: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'MESSAGE_RECEIVED') return;
      enqueue.emit(offlineRefuseMessage(event.ref, TOO_MANY.status, TOO_MANY.comment));
    }),
    endByUs: enqueueActions(({ context, event, enqueue }) => {
      const reason = event.type === 'GRACE_ENDED' ? 'grace' : event.type === 'MSRP_CLOSED' ? `msrp:${event.reason}` : 'ended';
      enqueue.assign({ endReason: reason });
      enqueue.cancel(GRACE_TIMER);
      enqueue.emit(offlineCloseMsrp(context.key));
      enqueue.emit(offlineBye(context.key, context.dialog, event.type === 'GRACE_ENDED' ? 'grace window over' : 'MSRP connection lost'));
      if (context.stored > 0) enqueue.emit(offlineEnded(context.key, context.callee));
    }),
    endCancelled: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ endReason: 'cancel' });
      enqueue.cancel(GRACE_TIMER);
      enqueue.emit(offlineCloseMsrp(context.key));
    }),
    endByCaller: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'BYE_RECEIVED') return;
      enqueue.assign({ endReason: 'bye' });
      enqueue.cancel(GRACE_TIMER);
      enqueue.emit(offlineRespond(event.requestRef, 200));
      enqueue.emit(offlineCloseMsrp(context.key));
      if (context.stored > 0) enqueue.emit(offlineEnded(context.key, context.callee));
    }),
  },
}).createMachine({
  id: 'offlineSession',
  context: ({ input }) => ({ ...input, closesAt: null, acked: false, greeted: false, stored: 0, endReason: null }),
  initial: 'answering',
  states: {
    answering: {
      on: { OFFERED: { target: 'open', actions: 'answer' } },
    },
    open: {
      on: {
        ACK_RECEIVED: { actions: 'ack' },
        MSRP_CONNECTED: { actions: 'greet' },
        MESSAGE_RECEIVED: [{ guard: 'underLimit', actions: 'store' }, { actions: 'refuseTooMany' }],
        GRACE_ENDED: { target: 'ended', actions: 'endByUs' },
        MSRP_CLOSED: { target: 'ended', actions: 'endByUs' },
        BYE_RECEIVED: { target: 'ended', actions: 'endByCaller' },
        // Only before anything was stored: a cancelled INVITE never had a dialog or a connection.
        CANCELLED: { guard: ({ context }) => context.stored === 0, target: 'ended', actions: 'endCancelled' },
      },
    },
    ended: { type: 'final' },
  },
});

export type OfflineSessionMachine = typeof offlineSessionMachine;
