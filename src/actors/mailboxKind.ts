/**
 * The mailbox actor kind: one mailbox machine (the MSILO model) per AoR, keyed by the AoR
 * (`sip:bob@example.com`). Created only by STORE_MESSAGE or SUBSCRIBED; a registration for a
 * user without a mailbox finds none ('absent') and costs nothing.
 */
import type { ActorKind } from './kind.js';
import { createMailboxMachine } from '../machines/mailbox.js';
import type { MailboxConfig, MailboxContext, MailboxInput } from '../machines/mailboxTypes.js';

export const MAILBOX_KIND = 'mailbox';

export function mailboxKind(config: Partial<MailboxConfig> = {}): ActorKind {
  return {
    name: MAILBOX_KIND,
    machine: createMailboxMachine(config),
    version: 1,
    input: (key, event): MailboxInput => ({ aor: key, online: (event as { online?: unknown }).online === true }),
    summary: (ctx) => {
      const c = ctx as MailboxContext;
      return `${c.count} stored${c.online ? ', online' : ''}${c.inflight.length > 0 ? `, ${c.inflight.length} in flight` : ''}`;
    },
  };
}
