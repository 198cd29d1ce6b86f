/**
 * The message-waiting publication actor kind (`mwipub`): keeps one user's message-summary
 * state PUBLISHed at the proxy's presence server (RFC 3903), keyed by the user's AoR.
 */
import type { ActorKind } from './kind.js';
import { messagePublicationMachine, type MessagePublicationContext, type MessagePublicationEvent, type MessagePublicationInput } from '../machines/messagePublication.js';

export const MESSAGE_PUBLICATION_KIND = 'mwipub';

export function messagePublicationKind(): ActorKind {
  return {
    name: MESSAGE_PUBLICATION_KIND,
    machine: messagePublicationMachine,
    version: 1,
    input: (_key, event): MessagePublicationInput => (event as Extract<MessagePublicationEvent, { type: 'COUNTS_CHANGED' }>).input,
    summary: (ctx) => {
      const c = ctx as MessagePublicationContext;
      const p = c.published;
      return `${p === null ? 'not published' : `published ${p.newCount}/${p.oldCount}`}${c.inFlight !== 0 ? ', PUBLISH in flight' : ''}`;
    },
  };
}
