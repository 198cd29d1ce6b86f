/**
 * The message-waiting actor kind: the RFC 3842 notifier of one user's mailbox, keyed by the
 * user's AoR. Wires the pure subscription rules of `src/transport/sip/subscription.ts` into
 * the machine (which may not import transport code) with this node's Contact for NOTIFYs.
 */
import type { ActorKind } from './kind.js';
import type { SipRequest } from '../transport/sip/message.js';
import { acceptSubscribe, buildNotify, expireSubscription, MESSAGE_SUMMARY_EVENT, refreshSubscription, subscriptionDialogKey, type Subscription } from '../transport/sip/subscription.js';
import { createMessageWaitingMachine, type MessageWaitingContext, type MessageWaitingEvent, type MessageWaitingInput, type SubscriptionOps } from '../machines/messageWaiting.js';

export const MESSAGE_WAITING_KIND = 'mwi';

/** The subscription rules for `message-summary`, NOTIFYs carrying `contact()` as Contact. */
export function messageSummaryOps(contact: () => string): SubscriptionOps {
  return {
    accept: (request, localTag, now) => acceptSubscribe(request as SipRequest, { packages: [MESSAGE_SUMMARY_EVENT], localTag, now }),
    refresh: (sub, request, now) => refreshSubscription(sub as Subscription, request as SipRequest, { package: MESSAGE_SUMMARY_EVENT, now }),
    notify: (sub, contentType, body, now) => {
      const n = buildNotify(sub as Subscription, { now, contact: contact(), contentType, body });
      return { subscription: n.subscription, request: n.request, dialog: n.subscription.dialog };
    },
    expire: (sub, now) => expireSubscription(sub as Subscription, now),
    expiresAt: (sub) => (sub as Subscription).expiresAt,
    terminated: (sub) => (sub as Subscription).state === 'terminated',
    dialogKey: (sub) => subscriptionDialogKey(sub as Subscription),
  };
}

export function messageWaitingKind(contact: () => string): ActorKind {
  return {
    name: MESSAGE_WAITING_KIND,
    machine: createMessageWaitingMachine(messageSummaryOps(contact)),
    version: 1,
    input: (_key, event): MessageWaitingInput => (event as Extract<MessageWaitingEvent, { type: 'SUBSCRIBE_RECEIVED' }>).input,
    summary: (ctx) => {
      const c = ctx as MessageWaitingContext;
      return `${Object.keys(c.subs).length} subscribed, ${c.counts.newCount}/${c.counts.oldCount}`;
    },
  };
}
