/**
 * `parley mailboxes list|show|purge|stats`: offline-message mailboxes through the admin API
 * (src/app/admin/mailboxRoutes.ts).
 */
import { intFlag, one, UsageError, withQuery } from './adminArgs.js';
import type { AdminCommand, CommandGroup } from './roomsCommand.js';

const mailboxPath = (aor: string) => `/api/admin/mailboxes/${encodeURIComponent(aor)}`;

interface MailboxView {
  aor: string;
  state: unknown;
  count: number;
  online: boolean;
  messages: Array<{ seq: number; from: string; contentType: string; bytes: number; receivedAt: string; expiresAt: string; sendAt?: string; preview?: string }>;
  next?: number;
}

const list: AdminCommand = {
  spec: {
    name: 'list',
    positionals: [],
    flags: [
      { name: '--limit', value: 'N', help: 'mailboxes per page, 1-500 (default 100)' },
      { name: '--after', value: 'AOR', help: 'start after this AoR (the "next" of the previous page)' },
    ],
    summary: 'List mailboxes in AoR order with how many messages each holds.',
  },
  async run(args, client) {
    const path = withQuery('/api/admin/mailboxes', { limit: intFlag(args, '--limit', 1, 500), after: one(args, '--after') });
    const page = await client.request<{ mailboxes: Array<{ aor: string; count: number; online: boolean }>; next?: string }>('GET', path);
    const rows = page.mailboxes.map((m) => `${m.aor}  ${m.count} stored${m.online ? '  online' : ''}`);
    const text = (rows.length > 0 ? rows.join('\n') + '\n' : 'no mailboxes\n') + (page.next !== undefined ? `more: parley mailboxes list --after ${page.next}\n` : '');
    return { json: page, text };
  },
};

const show: AdminCommand = {
  spec: {
    name: 'show',
    positionals: ['AOR'],
    flags: [
      { name: '--limit', value: 'N', help: 'messages per page, 1-500 (default 100)' },
      { name: '--after', value: 'SEQ', help: 'start after this message number' },
    ],
    summary: "Show a user's mailbox: state, count, and each message's number, sender, type, size and times.",
  },
  async run(args, client) {
    const path = withQuery(mailboxPath(args.positionals[0]), { limit: intFlag(args, '--limit', 1, 500), after: intFlag(args, '--after', 0, Number.MAX_SAFE_INTEGER) });
    const v = await client.request<MailboxView>('GET', path);
    const lines = [
      `mailbox  ${v.aor}`,
      `state    ${typeof v.state === 'string' ? v.state : JSON.stringify(v.state)}${v.online ? ', online' : ''}`,
      `stored   ${v.count}`,
      ...v.messages.map((m) => `  #${m.seq}  from ${m.from}  ${m.contentType}, ${m.bytes} bytes  received ${m.receivedAt}  expires ${m.expiresAt}${m.sendAt ? `  send at ${m.sendAt}` : ''}${m.preview !== undefined ? `\n        ${JSON.stringify(m.preview)}` : ''}`),
      ...(v.next !== undefined ? [`more: parley mailboxes show ${v.aor} --after ${v.next}`] : []),
    ];
    return { json: v, text: lines.join('\n') + '\n' };
  },
};

const purge: AdminCommand = {
  spec: {
    name: 'purge',
    positionals: ['AOR'],
    flags: [
      { name: '--message', value: 'SEQ', help: 'delete only this message (its number as shown)' },
      { name: '--all', help: 'delete every message and the mailbox itself' },
    ],
    summary: 'Delete one stored message (--message SEQ) or the whole mailbox (--all).',
  },
  async run(args, client) {
    const seq = intFlag(args, '--message', 1, Number.MAX_SAFE_INTEGER);
    const all = args.flags.has('--all');
    // No default: purging a mailbox by accident is not undoable.
    if ((seq === undefined) === !all) throw new UsageError('give exactly one of --message SEQ or --all');
    if (seq !== undefined) {
      const r = await client.request<{ aor: string; seq: number }>('DELETE', `${mailboxPath(args.positionals[0])}/messages/${seq}`);
      return { json: r, text: `deleted message ${r.seq} of ${r.aor}\n` };
    }
    const r = await client.request<{ aor: string; purged: number }>('DELETE', mailboxPath(args.positionals[0]));
    return { json: r, text: `purged ${r.aor} (${r.purged} message${r.purged === 1 ? '' : 's'})\n` };
  },
};

const stats: AdminCommand = {
  spec: { name: 'stats', positionals: [], flags: [], summary: "msilo's counters: stored, dumped and failed messages and reminders." },
  async run(_args, client) {
    const s = await client.request<Record<string, number>>('GET', '/api/admin/stats/mailbox');
    return { json: s, text: Object.entries(s).map(([k, v]) => `${k.padEnd(18)} ${v}`).join('\n') + '\n' };
  },
};

export const mailboxesGroup: CommandGroup = {
  name: 'mailboxes',
  summary: 'offline-message mailboxes: list, show, purge, stats',
  commands: [list, show, purge, stats],
};
