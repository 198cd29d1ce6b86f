/**
 * The mailboxes part of the admin API (issue 6 item 7), over the functions of
 * src/app/mailbox/admin.ts. The AoR travels percent-encoded in one path segment.
 *
 *   GET    /api/admin/mailboxes?after=&limit=              mailboxes: AoR, stored count, online
 *   GET    /api/admin/mailboxes/:aor?after=&limit=         state and a page of message metadata
 *   DELETE /api/admin/mailboxes/:aor/messages/:seq         delete one stored message
 *   DELETE /api/admin/mailboxes/:aor                       purge the mailbox (every message)
 *   GET    /api/admin/stats/mailbox                        msilo's counters
 */
import type { Route } from '../../transport/http/router.js';
import { guarded, type AdminRouteOptions } from './guard.js';
import { HttpError, intParam, sendJson } from '../../transport/http/respond.js';
import { deleteMessage, listMailbox, listMailboxes, mailboxStats, purgeMailbox, type MailboxAdminDeps } from '../mailbox/admin.js';
import { MAILBOX_KIND } from '../../actors/mailboxKind.js';
import { adminLimits, addressOf } from './validate.js';

const aorParam = (raw: string) => addressOf(raw, 'aor', 'aor');

/** The routes; `deps` is read on each request (the supervisor is built after the applications). */
export function mailboxAdminRoutes(deps: () => MailboxAdminDeps, opts: AdminRouteOptions = {}): Route[] {
  return guarded([
    {
      method: 'GET',
      path: '/api/admin/mailboxes',
      handler: (_req, res, { query }) => {
        const raw = query.get('after');
        if (raw !== null && raw.length > adminLimits.maxUriLength) throw new HttpError(400, `after: longer than ${adminLimits.maxUriLength} characters`);
        const limit = intParam(query, 'limit', 100, 1, 500);
        const mailboxes = listMailboxes(deps(), { ...(raw ? { after: raw } : {}), limit });
        // A full page may have more behind it; the last page may then be empty.
        sendJson(res, 200, { mailboxes, ...(mailboxes.length === limit ? { next: mailboxes[mailboxes.length - 1].aor } : {}) });
      },
    },
    {
      method: 'GET',
      path: '/api/admin/stats/mailbox',
      handler: (_req, res) => sendJson(res, 200, mailboxStats(deps())),
    },
    {
      method: 'GET',
      path: '/api/admin/mailboxes/:aor',
      handler: (_req, res, { params, query }) => {
        const aor = aorParam(params.aor);
        const view = listMailbox(deps(), aor, { after: intParam(query, 'after', 0, 0, Number.MAX_SAFE_INTEGER), limit: intParam(query, 'limit', 100, 1, 500) });
        if (view.state === undefined && view.count === 0) throw new HttpError(404, `no mailbox ${aor}`);
        sendJson(res, 200, view);
      },
    },
    {
      method: 'DELETE',
      path: '/api/admin/mailboxes/:aor/messages/:seq',
      handler: async (_req, res, { params }) => {
        const aor = aorParam(params.aor);
        if (!/^\d{1,15}$/.test(params.seq)) throw new HttpError(400, 'seq: expected a message number as listed');
        const seq = Number(params.seq);
        if (!(await deleteMessage(deps(), aor, seq))) throw new HttpError(404, `no message ${seq} in mailbox ${aor}`);
        sendJson(res, 200, { aor, seq, deleted: true });
      },
    },
    {
      method: 'DELETE',
      path: '/api/admin/mailboxes/:aor',
      handler: async (_req, res, { params }) => {
        const aor = aorParam(params.aor);
        const d = deps();
        if (d.supervisor.peek(MAILBOX_KIND, aor) === undefined && d.store.count(aor) === 0) throw new HttpError(404, `no mailbox ${aor}`);
        sendJson(res, 200, { aor, purged: await purgeMailbox(d, aor) });
      },
    },
  ], opts.boundHost);
}
