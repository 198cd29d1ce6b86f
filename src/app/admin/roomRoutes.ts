/**
 * The rooms part of the admin API (JSON, on the HTTP server that binds 127.0.0.1 by default).
 * The room URI travels percent-encoded in one path segment (`sip%3Adev%40conf.example`;
 * unencoded works too since it holds no `/`).
 *
 *   GET    /api/admin/rooms?after=&limit=&static=true|false   a page of rooms
 *   POST   /api/admin/rooms           {room, policy?, historySize?}       201 created static room
 *   GET    /api/admin/rooms/:room     state, participants, policy, history size
 *   PATCH  /api/admin/rooms/:room     {policy?, historySize?}              changed static room
 *   DELETE /api/admin/rooms/:room     participants get BYE, room removed
 *
 * `policy` is `{create?: {allow?, deny?}, join?: {allow?, deny?}, owners?, moderators?}`
 * (src/machines/policy.ts); in a PATCH each list given replaces that list.
 */
import type { Route } from '../../transport/http/router.js';
import { guarded, type AdminRouteOptions } from './guard.js';
import { HttpError, intParam, sendJson } from '../../transport/http/respond.js';
import { readJson } from '../../transport/http/body.js';
import { adminLimits } from './validate.js';
import { createRoom, deleteRoom, listRooms, showRoom, updateRoom, type RoomAdminDeps } from './roomAdmin.js';

function boolParam(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new HttpError(400, `${name} must be true or false`);
}

function cursorParam(query: URLSearchParams): string | undefined {
  const after = query.get('after');
  if (after === null || after === '') return undefined;
  if (after.length > adminLimits.maxUriLength) throw new HttpError(400, `after: longer than ${adminLimits.maxUriLength} characters`);
  return after;
}

/** The routes; `deps` is read on each request (the supervisor may be built after the routes). */
export function roomAdminRoutes(deps: () => RoomAdminDeps, opts: AdminRouteOptions = {}): Route[] {
  return guarded([
    {
      method: 'GET',
      path: '/api/admin/rooms',
      handler: (_req, res, { query }) => {
        sendJson(res, 200, listRooms(deps(), { after: cursorParam(query), limit: intParam(query, 'limit', 100, 1, 500), static: boolParam(query, 'static') }));
      },
    },
    {
      method: 'POST',
      path: '/api/admin/rooms',
      handler: async (req, res) => {
        const body = await readJson(req);
        if (body === undefined) throw new HttpError(400, 'body: expected {"room": "sip:...", "policy": {...}, "historySize": 50}');
        const view = await createRoom(deps(), body);
        sendJson(res, 201, view, { location: `/api/admin/rooms/${encodeURIComponent(view.room)}` });
      },
    },
    {
      method: 'GET',
      path: '/api/admin/rooms/:room',
      handler: (_req, res, { params }) => sendJson(res, 200, showRoom(deps(), params.room)),
    },
    {
      method: 'PATCH',
      path: '/api/admin/rooms/:room',
      handler: async (req, res, { params }) => {
        const body = await readJson(req);
        if (body === undefined) throw new HttpError(400, 'body: expected {"policy": {...}} and/or {"historySize": N}');
        sendJson(res, 200, await updateRoom(deps(), params.room, body));
      },
    },
    {
      method: 'DELETE',
      path: '/api/admin/rooms/:room',
      handler: async (_req, res, { params }) => sendJson(res, 200, await deleteRoom(deps(), params.room)),
    },
  ], opts.boundHost);
}
