/**
 * Delivery of what one caller wrote in offline chat sessions, when the user comes online: one
 * actor per (user, original caller), so there is one delivery session per caller at a time.
 * Each run (`delivery.run`, performed by the offline application) opens a new MSRP session to
 * the user that comes from the caller, sends that caller's stored messages in order, has each
 * deleted from the mailbox only after its MSRP 200, and hangs up. Pure: the protocol work is the
 * executor's; this decides when to run, retry and stop.
 *
 * - `idle` (created by DELIVER) -> `running`;
 * - `running`: one run in flight (its number in context, so a late answer of an abandoned run
 *   is ignored); a durable stall timer turns a run lost in a restart into a retry;
 *   RUN_DONE with more to send (or a DELIVER meanwhile) runs again, else `done`;
 *   RUN_FAILED (declined, no answer, MSRP failure) -> `waiting`, unless the user is offline
 *   again or the attempts are used up -> `done` (messages stay; the next online event retries);
 * - `waiting`: a durable retry timer, or a new DELIVER, starts the next run.
 */
import { enqueueActions, setup } from 'xstate';

export interface SessionDeliveryInput {
  readonly key: string;
  readonly aor: string;
  /** The original caller's identity URI. */
  readonly caller: string;
  /** Wait between failed runs (ms). */
  readonly retryMs: number;
  /** A run silent this long counts as failed (only a restart loses a run's answer). */
  readonly stallMs: number;
  /** Failed runs before giving up until the user's next registration. */
  readonly maxAttempts: number;
}

export interface SessionDeliveryContext extends SessionDeliveryInput {
  readonly run: number;
  readonly attempts: number;
  readonly rerun: boolean;
  readonly delivered: number;
  readonly lastStatus: number | null;
  /** Deadlines kept as absolute times (the runtime re-arms them after a restart). */
  readonly retryAt: number | null;
  readonly stallAt: number | null;
}

export type SessionDeliveryEvent =
  | { type: 'DELIVER'; at: number; input: SessionDeliveryInput }
  | { type: 'RUN_DONE'; at: number; run: number; delivered: number; more: boolean }
  | { type: 'RUN_FAILED'; at: number; run: number; status: number; offline: boolean; delivered: number }
  | { type: 'RETRY_DUE'; at: number }
  | { type: 'RUN_STALLED'; at: number };

export const sessionDeliveryEvents = {
  deliver: (at: number, input: SessionDeliveryInput) => ({ type: 'DELIVER', at, input }) as const,
  runDone: (at: number, run: number, delivered: number, more: boolean) => ({ type: 'RUN_DONE', at, run, delivered, more }) as const,
  runFailed: (at: number, run: number, status: number, offline: boolean, delivered: number) =>
    ({ type: 'RUN_FAILED', at, run, status, offline, delivered }) as const,
  retryDue: (at: number) => ({ type: 'RETRY_DUE', at }) as const,
  runStalled: (at: number) => ({ type: 'RUN_STALLED', at }) as const,
};

/** Run one delivery session for (aor, caller); answer RUN_DONE or RUN_FAILED with `run`. */
export const deliveryRun = (key: string, aor: string, caller: string, run: number) => ({ type: 'delivery.run', key, aor, caller, run }) as const;
export type SessionDeliveryEffect = ReturnType<typeof deliveryRun>;
export const SESSION_DELIVERY_EFFECT_TYPES = ['delivery.run'] as const;

const TIMERS = { retry: 'retry', stall: 'stall' } as const;

const current = ({ context, event }: { context: SessionDeliveryContext; event: SessionDeliveryEvent }) =>
  (event.type === 'RUN_DONE' || event.type === 'RUN_FAILED') && event.run === context.run;

export const sessionDeliveryMachine = setup({
  types: {
    context: {} as SessionDeliveryContext,
    input: {} as SessionDeliveryInput,
    events: {} as SessionDeliveryEvent,
    emitted: {} as SessionDeliveryEffect,
  },
  guards: {
    current,
    again: (a) => current(a) && a.event.type === 'RUN_DONE' && (a.event.more || a.context.rerun),
    giveUp: (a) => current(a) && a.event.type === 'RUN_FAILED' && (a.event.offline || a.context.attempts >= a.context.maxAttempts),
    // A run lost in every restart must not retry forever either (found by the model test).
    attemptsUsed: ({ context }) => context.attempts >= context.maxAttempts,
  },
  actions: {
    startRun: enqueueActions(({ context, event, enqueue }) => {
      const run = context.run + 1;
      const stallAt = event.at + context.stallMs;
      enqueue.cancel(TIMERS.retry);
      enqueue.assign({ run, attempts: context.attempts + 1, rerun: false, retryAt: null, stallAt });
      enqueue.emit(deliveryRun(context.key, context.aor, context.caller, run));
      enqueue.raise(sessionDeliveryEvents.runStalled(stallAt), { id: TIMERS.stall, delay: context.stallMs });
    }),
    noteResult: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'RUN_DONE' && event.type !== 'RUN_FAILED') return;
      enqueue.cancel(TIMERS.stall);
      enqueue.assign({
        stallAt: null,
        delivered: context.delivered + event.delivered,
        lastStatus: event.type === 'RUN_FAILED' ? event.status : 200,
        // A run that delivered something made progress: its failures start counting afresh.
        attempts: event.type === 'RUN_DONE' || event.delivered > 0 ? 0 : context.attempts,
      });
    }),
    stalled: enqueueActions(({ enqueue }) => enqueue.assign({ stallAt: null, lastStatus: 408 })),
    markRerun: enqueueActions(({ enqueue }) => enqueue.assign({ rerun: true })),
    armRetry: enqueueActions(({ context, event, enqueue }) => {
      const retryAt = event.at + context.retryMs;
      enqueue.assign({ retryAt });
      enqueue.raise(sessionDeliveryEvents.retryDue(retryAt), { id: TIMERS.retry, delay: context.retryMs });
    }),
  },
}).createMachine({
  id: 'sessionDelivery',
  context: ({ input }) => ({ ...input, run: 0, attempts: 0, rerun: false, delivered: 0, lastStatus: null, retryAt: null, stallAt: null }),
  initial: 'idle',
  states: {
    idle: {
      on: { DELIVER: { target: 'running' } },
    },
    running: {
      entry: 'startRun',
      on: {
        DELIVER: { actions: 'markRerun' },
        RUN_DONE: [
          { guard: 'again', target: 'running', reenter: true, actions: 'noteResult' },
          { guard: 'current', target: 'done', actions: 'noteResult' },
        ],
        RUN_FAILED: [
          { guard: 'giveUp', target: 'done', actions: 'noteResult' },
          { guard: 'current', target: 'waiting', actions: ['noteResult', 'armRetry'] },
        ],
        RUN_STALLED: [
          { guard: 'attemptsUsed', target: 'done', actions: 'stalled' },
          { target: 'waiting', actions: ['stalled', 'armRetry'] },
        ],
      },
    },
    waiting: {
      on: {
        RETRY_DUE: { target: 'running' },
        DELIVER: { target: 'running' },
      },
    },
    done: { type: 'final' },
  },
});
