/**
 * The session-delivery actor kind: one per (user AoR, original caller), keyed
 * `<aor> <caller>` (a space cannot occur in either URI). Created by DELIVER, whose `input`
 * becomes the context; ends (snapshot deleted) when the caller's messages are delivered or
 * the delivery gives up until the user's next registration.
 */
import type { ActorKind } from './kind.js';
import { sessionDeliveryMachine, type SessionDeliveryContext, type SessionDeliveryEvent, type SessionDeliveryInput } from '../machines/sessionDelivery.js';

export const SESSION_DELIVERY_KIND = 'delivery';

export function sessionDeliveryKey(aor: string, caller: string): string {
  return `${aor} ${caller}`;
}

export function sessionDeliveryKind(): ActorKind {
  return {
    name: SESSION_DELIVERY_KIND,
    machine: sessionDeliveryMachine,
    version: 1,
    input: (_key, event): SessionDeliveryInput => (event as Extract<SessionDeliveryEvent, { type: 'DELIVER' }>).input,
    summary: (ctx) => {
      const c = ctx as SessionDeliveryContext;
      return `${c.caller} -> ${c.aor}: run ${c.run}, ${c.delivered} delivered${c.lastStatus !== null ? `, last ${c.lastStatus}` : ''}`;
    },
  };
}
