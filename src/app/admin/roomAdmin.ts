/**
 * Room administration as plain functions, for the admin HTTP API (and through it the CLI):
 * provision static rooms, list and show rooms, change their policy and history size, delete
 * them. Every change is a domain event dispatched to the room actor through the supervisor,
 * so it is committed with the room's snapshot (and survives restarts) before the caller hears
 * of it, and the machine alone decides what it means for the participants (a deleted room
 * BYEs them).
 *
 * Reading the room (`peek`) and dispatching happen in the same tick: the supervisor processes
 * an event synchronously up to its commit, so no other event can slip in between the check
 * and the change (two concurrent creates cannot both see "no such room").
 */
import { ROOM_KIND } from '../../actors/roomKind.js';
import type { Supervisor } from '../../actors/supervisor.js';
import { conferenceEvents, DEFAULT_HISTORY_SIZE, type ConferenceContext } from '../../machines/conference.js';
import { openPolicy, type RoomPolicy } from '../../machines/policy.js';
import { HttpError } from '../../transport/http/respond.js';
import { accessList, adminLimits, addressOf, entryList, intIn, objectOf } from './validate.js';

export interface RoomAdminDeps {
  readonly supervisor: Supervisor;
  /** What a created room's policy starts from (the configured default); open when absent. */
  readonly defaultPolicy?: RoomPolicy;
}

/** A participant as an administrator sees it (no dialog or MSRP session: the session URI is a secret). */
export interface ParticipantView {
  readonly id: string;
  readonly uri: string;
  readonly displayName?: string;
  readonly status: 'expected' | 'joined';
  readonly since: string;
}

export interface RoomView {
  readonly room: string;
  /** The machine's state value (`open`). */
  readonly state: unknown;
  readonly static: boolean;
  readonly historySize: number;
  readonly policy: RoomPolicy;
  readonly participants: readonly ParticipantView[];
}

export interface RoomSummary {
  readonly room: string;
  readonly state: unknown;
  readonly static: boolean;
  readonly participants: number;
  readonly historySize: number;
}

const MAX_PAGE = 500;

function viewOf(room: string, value: unknown, c: ConferenceContext): RoomView {
  return {
    room,
    state: value,
    static: c.isStatic,
    historySize: c.historySize ?? DEFAULT_HISTORY_SIZE,
    policy: c.policy,
    participants: Object.values(c.participants).map((p) => ({
      id: p.id,
      uri: p.uri,
      ...(p.displayName !== undefined ? { displayName: p.displayName } : {}),
      status: p.status,
      since: new Date(p.since).toISOString(),
    })),
  };
}

function current(d: RoomAdminDeps, room: string): { value: unknown; context: ConferenceContext } | undefined {
  const peek = d.supervisor.peek(ROOM_KIND, room);
  return peek && { value: peek.value, context: peek.context as ConferenceContext };
}

/** One room; 404 when it does not exist. `room` may be any spelling of its URI. */
export function showRoom(d: RoomAdminDeps, roomUri: string): RoomView {
  const room = addressOf(roomUri, 'room');
  const c = current(d, room);
  if (c === undefined) throw new HttpError(404, `no room ${room}`);
  return viewOf(room, c.value, c.context);
}

/** A page of rooms (static and ad hoc) in URI order after `after`; `next` when the page is full. */
export function listRooms(d: RoomAdminDeps, opts: { after?: string; limit?: number; static?: boolean } = {}): { rooms: RoomSummary[]; next?: string } {
  const limit = Math.max(1, Math.min(opts.limit ?? 100, MAX_PAGE));
  const rooms: RoomSummary[] = [];
  let last: string | undefined;
  let scanned = 0;
  for (const { key, record } of d.supervisor.listPersisted({ kind: ROOM_KIND, ...(opts.after ? { after: [ROOM_KIND, opts.after] as const } : {}), limit })) {
    scanned++;
    last = key;
    const c = record.context as ConferenceContext;
    if (opts.static !== undefined && c.isStatic !== opts.static) continue;
    rooms.push({ room: key, state: record.value, static: c.isStatic, participants: Object.keys(c.participants).length, historySize: c.historySize ?? DEFAULT_HISTORY_SIZE });
  }
  // A full scan may have more behind it even when the filter kept fewer rows.
  return { rooms, ...(scanned === limit && last !== undefined ? { next: last } : {}) };
}

/** The policy described by `input` (a partial RoomPolicy), missing parts taken from `base`. */
export function policyFrom(input: unknown, base: RoomPolicy): RoomPolicy {
  const o = objectOf(input, 'policy', ['create', 'join', 'owners', 'moderators']);
  return {
    create: o.create === undefined ? base.create : accessList(o.create, 'policy.create', base.create),
    join: o.join === undefined ? base.join : accessList(o.join, 'policy.join', base.join),
    owners: o.owners === undefined ? base.owners : entryList(o.owners, 'policy.owners'),
    moderators: o.moderators === undefined ? base.moderators : entryList(o.moderators, 'policy.moderators'),
  };
}

/**
 * Provisions a static room from `{room, policy?, historySize?}`. 409 when a room with that
 * URI exists, static or ad hoc (promoting a live ad-hoc room is a decision for its owners,
 * not a side effect of a create).
 */
export async function createRoom(d: RoomAdminDeps, body: unknown): Promise<RoomView> {
  const o = objectOf(body, 'body', ['room', 'policy', 'historySize']);
  const room = addressOf(o.room, 'room');
  const base = d.defaultPolicy ?? openPolicy;
  const policy = o.policy === undefined ? base : policyFrom(o.policy, base);
  const historySize = o.historySize === undefined ? undefined : intIn(o.historySize, 'historySize', 0, adminLimits.maxHistorySize);
  const existing = current(d, room);
  if (existing !== undefined) throw new HttpError(409, `room ${room} already exists (${existing.context.isStatic ? 'static' : 'ad hoc'})`);
  const r = await d.supervisor.dispatch(ROOM_KIND, room, conferenceEvents.provisioned(policy, historySize), { create: true });
  if (r !== 'ok') throw new HttpError(500, `room ${room} was not created (${r})`);
  return showRoom(d, room);
}

/**
 * Changes a static room from `{policy?, historySize?}`: each list given replaces that list,
 * anything left out is kept. Participants already in the room stay (a narrower join list
 * applies to the next joins; kick them to remove them). 409 for an ad-hoc room.
 */
export async function updateRoom(d: RoomAdminDeps, roomUri: string, body: unknown): Promise<RoomView> {
  const room = addressOf(roomUri, 'room');
  const o = objectOf(body, 'body', ['policy', 'historySize']);
  if (o.policy === undefined && o.historySize === undefined) throw new HttpError(400, 'body: nothing to change (give policy and/or historySize)');
  const historySize = o.historySize === undefined ? undefined : intIn(o.historySize, 'historySize', 0, adminLimits.maxHistorySize);
  const c = current(d, room);
  if (c === undefined) throw new HttpError(404, `no room ${room}`);
  if (!c.context.isStatic) throw new HttpError(409, `room ${room} is ad hoc: only static rooms are administered (delete it, or create it as static once it has closed)`);
  const policy = o.policy === undefined ? c.context.policy : policyFrom(o.policy, c.context.policy);
  const r = await d.supervisor.dispatch(ROOM_KIND, room, conferenceEvents.provisioned(policy, historySize));
  if (r === 'absent') throw new HttpError(404, `no room ${room}`);
  if (r !== 'ok') throw new HttpError(500, `room ${room} was not changed (${r})`);
  return showRoom(d, room);
}

/**
 * Deletes a room, static or ad hoc: ROOM_DELETED ends every participant's dialog (BYE) and
 * the room's snapshot is removed. Resolves with how many participants were in it.
 */
export async function deleteRoom(d: RoomAdminDeps, roomUri: string): Promise<{ room: string; deleted: true; participants: number }> {
  const room = addressOf(roomUri, 'room');
  const c = current(d, room);
  if (c === undefined) throw new HttpError(404, `no room ${room}`);
  const participants = Object.keys(c.context.participants).length;
  const r = await d.supervisor.dispatch(ROOM_KIND, room, conferenceEvents.deleted());
  if (r === 'absent') throw new HttpError(404, `no room ${room}`);
  if (r !== 'ok') throw new HttpError(500, `room ${room} was not deleted (${r})`);
  // A state that ignores ROOM_DELETED leaves the room in place: say so rather than claim success.
  if (current(d, room) !== undefined) throw new HttpError(409, `room ${room} did not accept deletion in state ${JSON.stringify(c.value)}`);
  return { room, deleted: true, participants };
}
