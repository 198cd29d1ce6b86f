/**
 * One user's mailbox (the MSILO model of Kamailio/OpenSIPS): one actor per AoR holding what
 * msilo keeps in its table. Pure: the decisions are in `mailboxSteps.ts`; this file wires them
 * into states.
 *
 * - `fresh`: just created by its first event (STORE_MESSAGE or SUBSCRIBED), then routed;
 * - `offline`: messages wait; expiry sweeps and reminders still run;
 * - `online.idle` / `online.delivering`: a delivery pass is running or not; failures are retried
 *   every check_time while online; a reminder falls due -> a pass;
 * - `stopped` (final): empty, nothing in flight, no subscriber: the runtime deletes the
 *   snapshot. The counters survive in the global stats record (`store.addStats`).
 *
 * Configuration is closed over (`createMailboxMachine(config)`), not kept in context, so a
 * changed configuration applies to existing mailboxes and the snapshot stays small.
 */
import { and, enqueueActions, not, setup } from 'xstate';
import type { MailboxEffect } from './mailboxEffects.js';
import { Draft, deleteMessages, endPass, markRead, goOffline, isIdleEmpty, passDone, startPass, startSweep, stalled, store, storeMany, subscribe, takeBatch, takeResult, takeResults, takeSwept, unsubscribe } from './mailboxSteps.js';
import { defaultMailboxConfig, type MailboxConfig, type MailboxContext, type MailboxEvent, type MailboxInput } from './mailboxTypes.js';

type Step = (d: Draft, e: MailboxEvent) => void;

/** Builds the mailbox machine for one configuration. */
export function createMailboxMachine(config: Partial<MailboxConfig> = {}) {
  const cfg: MailboxConfig = { ...defaultMailboxConfig, ...config };
  /**
   * Runs a step on a draft and turns it into xstate actions (assign, emit, raise, cancel).
   * Typed loosely on purpose: `enqueueActions` outside `setup()` cannot name the machine's
   * types; the step functions are the typed part.
   */
  const run = (step: Step): any =>
    enqueueActions(({ context, event, enqueue }: { context: MailboxContext; event: MailboxEvent; enqueue: any }) => {
      const d = new Draft(context, cfg, event.at);
      step(d, event);
      for (const id of d.cancels) if (!d.timers.some((t) => t.id === id)) enqueue.cancel(id);
      for (const t of d.timers) enqueue.raise(t.event, { id: t.id, delay: t.delay });
      for (const e of d.allEffects()) enqueue.emit(e);
      enqueue.assign(d.ctx);
    });

  return setup({
    types: {
      context: {} as MailboxContext,
      input: {} as MailboxInput,
      events: {} as MailboxEvent,
      emitted: {} as MailboxEffect,
    },
    guards: {
      isOnline: ({ context }) => context.online,
      isEmpty: ({ context }) => isIdleEmpty(context),
      hasMessages: ({ context }) => context.count > 0,
      passDone: ({ context }) => passDone(context),
      rerun: ({ context }) => context.pass?.rerun === true,
    },
    actions: {
      store: run((d, e) => e.type === 'STORE_MESSAGE' && store(d, e)),
      storeMany: run((d, e) => e.type === 'STORE_MESSAGES' && storeMany(d, e)),
      comeOnline: run((d) => d.set({ online: true })),
      goOffline: run((d) => goOffline(d)),
      startPass: run((d) => startPass(d)),
      endPass: run((d) => endPass(d)),
      markRerun: run((d) => d.ctx.pass && d.set({ pass: { ...d.ctx.pass, rerun: true } })),
      takeBatch: run((d, e) => e.type === 'BATCH_LOADED' && takeBatch(d, e)),
      takeResult: run((d, e) => e.type === 'DELIVERY_RESULT' && takeResult(d, e)),
      takeResults: run((d, e) => e.type === 'DELIVERY_RESULTS' && takeResults(d, e)),
      stalled: run((d) => stalled(d)),
      startSweep: run((d) => startSweep(d)),
      takeSwept: run((d, e) => e.type === 'SWEPT' && takeSwept(d, e)),
      deleteMessages: run((d, e) => e.type === 'DELETE_MESSAGES' && deleteMessages(d, e)),
      markRead: run((d, e) => e.type === 'MARK_READ' && markRead(d, e)),
      subscribe: run((d, e) => e.type === 'SUBSCRIBED' && subscribe(d, e.id)),
      unsubscribe: run((d, e) => e.type === 'UNSUBSCRIBED' && unsubscribe(d, e.id)),
      // A timer that fired is gone from the runtime's table: forget its deadline.
      checkFired: run((d) => d.set({ checkAt: null })),
      reminderFired: run((d) => d.set({ reminderAt: null })),
    },
  }).createMachine({
    id: 'mailbox',
    context: ({ input }) => ({
      aor: input.aor,
      count: 0,
      nextSeq: 1,
      online: input.online ?? false,
      inflight: [],
      pass: null,
      sweeping: false,
      checkAt: null,
      sweepAt: null,
      reminderAt: null,
      stallAt: null,
      nextExpiryAt: null,
      recentKeys: [],
      recentDeletes: [],
      subscribers: [],
    }),
    initial: 'fresh',
    // Handled the same in every state (results of work started earlier, expiry, admin).
    on: {
      STORE_MESSAGE: { actions: 'store' },
      STORE_MESSAGES: { actions: 'storeMany' },
      DELIVERY_RESULT: { actions: 'takeResult' },
      DELIVERY_RESULTS: { actions: 'takeResults' },
      DELIVERY_STALLED: { actions: 'stalled' },
      SWEEP_DUE: { actions: 'startSweep' },
      SWEPT: { actions: 'takeSwept' },
      DELETE_MESSAGES: { actions: 'deleteMessages' },
      MARK_READ: { actions: 'markRead' },
      SUBSCRIBED: { actions: 'subscribe' },
      UNSUBSCRIBED: { actions: 'unsubscribe' },
      CHECK_DUE: { actions: 'checkFired' },
      REMINDER_DUE: { actions: 'reminderFired' },
    },
    states: {
      fresh: {
        // Never decide to stop before the creating event was handled.
        on: {
          STORE_MESSAGE: { target: 'route', actions: 'store' },
          STORE_MESSAGES: { target: 'route', actions: 'storeMany' },
          SUBSCRIBED: { target: 'route', actions: 'subscribe' },
          USER_ONLINE: { target: 'route', actions: 'comeOnline' },
          '*': { target: 'route' },
        },
      },
      route: {
        always: [{ guard: 'isOnline', target: 'online' }, { target: 'offline' }],
      },
      offline: {
        always: { guard: 'isEmpty', target: 'stopped' },
        on: {
          USER_ONLINE: [
            { guard: 'hasMessages', target: 'online.delivering', actions: 'comeOnline' },
            { target: 'online', actions: 'comeOnline' },
          ],
        },
      },
      online: {
        initial: 'idle',
        on: {
          USER_OFFLINE: { target: 'offline', actions: 'goOffline' },
        },
        states: {
          idle: {
            always: { guard: 'isEmpty', target: '#mailbox.stopped' },
            on: {
              USER_ONLINE: { guard: 'hasMessages', target: 'delivering' },
              CHECK_DUE: { guard: 'hasMessages', target: 'delivering', actions: 'checkFired' },
              REMINDER_DUE: { guard: 'hasMessages', target: 'delivering', actions: 'reminderFired' },
            },
          },
          delivering: {
            entry: 'startPass',
            always: [
              { guard: and(['passDone', 'rerun']), target: 'delivering', reenter: true, actions: 'endPass' },
              { guard: and(['passDone', not('rerun')]), target: 'idle', actions: 'endPass' },
            ],
            on: {
              BATCH_LOADED: { actions: 'takeBatch' },
              USER_ONLINE: { actions: 'markRerun' },
              CHECK_DUE: { actions: ['checkFired', 'markRerun'] },
              REMINDER_DUE: { actions: ['reminderFired', 'markRerun'] },
            },
          },
        },
      },
      stopped: { type: 'final' },
    },
  });
}

/** The machine with msilo's defaults. */
export const mailboxMachine = createMailboxMachine();
export type MailboxMachine = ReturnType<typeof createMailboxMachine>;
