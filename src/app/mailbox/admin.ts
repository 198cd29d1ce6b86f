/**
 * Mailbox administration as plain functions, for the admin HTTP API and the CLI: list the
 * mailboxes and one user's messages, delete a message, purge a mailbox, read msilo's counters.
 * Changes go through the mailbox actor (or `Supervisor.purge`) so its count stays right.
 */
import type { Clock } from '../../clock.js';
import type { MailboxStore, MsiloStats } from '../../actors/mailboxStore.js';
import { MAILBOX_KIND } from '../../actors/mailboxKind.js';
import type { Supervisor } from '../../actors/supervisor.js';
import { mailboxEvents as ev, type MailboxContext } from '../../machines/mailboxTypes.js';

export interface MailboxAdminDeps {
  readonly supervisor: Supervisor;
  readonly store: MailboxStore;
  readonly clock: Clock;
}

/** One message as an administrator sees it (the body is cut to `preview`). */
export interface MessageView {
  readonly seq: number;
  readonly from: string;
  readonly to: string;
  readonly contentType: string;
  readonly bytes: number;
  readonly receivedAt: string;
  readonly expiresAt: string;
  readonly sendAt?: string;
  /** The first 200 characters of a text body. */
  readonly preview?: string;
}

export interface MailboxView {
  readonly aor: string;
  /** The actor's state (`offline`, `{online: 'delivering'}`...), undefined when it has none. */
  readonly state: unknown;
  readonly count: number;
  readonly online: boolean;
  readonly messages: readonly MessageView[];
  /** Pass as `after` for the next page; undefined on the last page. */
  readonly next?: number;
}

const MAX_PAGE = 500;
const iso = (t: number) => new Date(t).toISOString();

/** A user's mailbox, a page of messages in arrival order after seq `after` (default 0). */
export function listMailbox(d: MailboxAdminDeps, aor: string, opts: { after?: number; limit?: number } = {}): MailboxView {
  const limit = Math.max(1, Math.min(opts.limit ?? 100, MAX_PAGE));
  const rows = d.store.list(aor, opts.after ?? 0, limit + 1);
  const page = rows.slice(0, limit);
  const peek = d.supervisor.peek(MAILBOX_KIND, aor);
  const ctx = peek?.context as MailboxContext | undefined;
  return {
    aor,
    state: peek?.value,
    count: ctx?.count ?? d.store.count(aor),
    online: ctx?.online ?? false,
    messages: page.map((m) => ({
      seq: m.seq,
      from: m.from,
      to: m.to,
      contentType: m.contentType,
      bytes: m.body.length,
      receivedAt: iso(m.receivedAt),
      expiresAt: iso(m.expiresAt),
      ...(m.sendAt !== undefined ? { sendAt: iso(m.sendAt) } : {}),
      ...(m.contentType.toLowerCase().startsWith('text/') ? { preview: Buffer.from(m.body).toString('utf8').slice(0, 200) } : {}),
    })),
    ...(rows.length > limit ? { next: page[page.length - 1].seq } : {}),
  };
}

/** Mailboxes with an actor (anything stored or watched), in AoR order, with their summary. */
export function listMailboxes(d: MailboxAdminDeps, opts: { after?: string; limit?: number } = {}): Array<{ aor: string; count: number; online: boolean }> {
  const limit = Math.max(1, Math.min(opts.limit ?? 100, MAX_PAGE));
  const out: Array<{ aor: string; count: number; online: boolean }> = [];
  for (const { key, record } of d.supervisor.listPersisted({ kind: MAILBOX_KIND, ...(opts.after ? { after: [MAILBOX_KIND, opts.after] as const } : {}), limit })) {
    const c = record.context as MailboxContext;
    out.push({ aor: key, count: c.count, online: c.online });
  }
  return out;
}

/** Deletes one message; false when it does not exist. Resolves after the commit. */
export async function deleteMessage(d: MailboxAdminDeps, aor: string, seq: number): Promise<boolean> {
  if (!Number.isSafeInteger(seq) || d.store.get(aor, seq) === undefined) return false;
  const r = await d.supervisor.dispatch(MAILBOX_KIND, aor, ev.deleteMessages(d.clock.now(), [seq]));
  return r === 'ok';
}

/** Removes a mailbox entirely (actor, timers, messages); returns how many messages went. */
export async function purgeMailbox(d: MailboxAdminDeps, aor: string): Promise<number> {
  const n = d.store.count(aor);
  await d.supervisor.purge(MAILBOX_KIND, aor, d.store.purgeWrites(aor));
  return n;
}

/** msilo's counters since the data directory was created. */
export function mailboxStats(d: MailboxAdminDeps): MsiloStats {
  return d.store.stats();
}
