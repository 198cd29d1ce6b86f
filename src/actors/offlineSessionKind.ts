/**
 * The offline-session actor kind: one offline chat session per answered INVITE, keyed by
 * `<Call-ID>;<local tag>` (what an in-dialog request names). Created only by OFFERED, whose
 * `session` is the input; ends (snapshot deleted) with the session.
 */
import type { ActorKind } from './kind.js';
import { offlineSessionMachine, type OfflineSessionContext } from '../machines/offlineSession.js';
import type { OfflineSessionEvent, OfflineSessionInput } from '../machines/offlineSessionEffects.js';

export const OFFLINE_SESSION_KIND = 'offline';

/** The actor key of the session created by a dialog (Call-ID and our To tag). */
export function offlineSessionKey(callId: string, localTag: string): string {
  return `${callId};${localTag}`;
}

export function offlineSessionKind(): ActorKind {
  return {
    name: OFFLINE_SESSION_KIND,
    machine: offlineSessionMachine,
    version: 1,
    input: (_key, event): OfflineSessionInput => (event as Extract<OfflineSessionEvent, { type: 'OFFERED' }>).session,
    summary: (ctx) => {
      const c = ctx as OfflineSessionContext;
      return `${c.caller} -> ${c.callee}, ${c.stored} stored${c.closesAt !== null ? `, closes ${new Date(c.closesAt).toISOString()}` : ''}`;
    },
  };
}
