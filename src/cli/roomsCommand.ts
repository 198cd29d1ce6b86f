/**
 * `parley rooms create|list|show|delete|set-policy|set-owners`: static rooms through the admin
 * API (src/app/admin/roomRoutes.ts). Each command builds one request from its arguments and
 * prints the answer as text (or JSON with --json).
 */
import { readFileSync, statSync } from 'node:fs';
import type { AdminClient } from './adminClient.js';
import { intFlag, list, one, UsageError, withQuery, type CommandSpec, type FlagSpec, type ParsedArgs } from './adminArgs.js';

/** One subcommand: its spec (arguments, help) and what it does. */
export interface AdminCommand {
  readonly spec: CommandSpec;
  /** Resolves with the server's answer and its text form. */
  run(args: ParsedArgs, client: AdminClient): Promise<{ json: unknown; text: string }>;
}

export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly AdminCommand[];
}

const MAX_POLICY_FILE = 64 * 1024;
const roomPath = (room: string) => `/api/admin/rooms/${encodeURIComponent(room)}`;

const accessFlags: FlagSpec[] = [
  { name: '--allow-join', value: 'ENTRY', repeat: true, help: 'who may join: sip:user@host, @domain or *' },
  { name: '--deny-join', value: 'ENTRY', repeat: true, help: 'who may not join (deny wins over allow)' },
  { name: '--allow-create', value: 'ENTRY', repeat: true, help: 'who may create ad-hoc rooms (kept for completeness)' },
  { name: '--deny-create', value: 'ENTRY', repeat: true, help: 'who may not create' },
];
const roleFlags: FlagSpec[] = [
  { name: '--owner', value: 'URI', repeat: true, help: 'an owner (may kick and change the room)' },
  { name: '--moderator', value: 'URI', repeat: true, help: 'a moderator (may kick)' },
];
const policyFlag: FlagSpec = { name: '--policy', value: 'JSON|@FILE', help: 'a policy object as the API takes it; the flags above override its parts' };
const historyFlag: FlagSpec = { name: '--history', value: 'N', help: 'messages kept and replayed to newcomers, 0-1000 (default 50)' };

const LISTS_NOTE = `Entries: a SIP URI (sip:alice@example.com), a domain with its subdomains (@example.com), or *.
Repeat a flag for several entries; each list given replaces that list, and a flag with an
empty value (--deny-join=) empties it.`;

/** `--policy '{"join":{"allow":["*"]}}'` or `--policy @policy.json`. */
function policyArg(args: ParsedArgs): Record<string, unknown> {
  const raw = one(args, '--policy');
  if (raw === undefined) return {};
  let text = raw;
  if (raw.startsWith('@')) {
    const file = raw.slice(1);
    try {
      if (statSync(file).size > MAX_POLICY_FILE) throw new UsageError(`--policy file ${file} is over ${MAX_POLICY_FILE} bytes`);
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--policy: cannot read ${file}: ${(err as Error).message}`);
    }
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--policy is not JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--policy must be a JSON object');
  return v as Record<string, unknown>;
}

/** The `policy` field of a request from --policy and the list flags; undefined when none given. */
function policyOf(args: ParsedArgs, withRoles: boolean): Record<string, unknown> | undefined {
  const p: Record<string, unknown> = { ...policyArg(args) };
  for (const [what, allowFlag, denyFlag] of [['join', '--allow-join', '--deny-join'], ['create', '--allow-create', '--deny-create']] as const) {
    const allow = list(args, allowFlag);
    const deny = list(args, denyFlag);
    if (allow === undefined && deny === undefined) continue;
    const base = typeof p[what] === 'object' && p[what] !== null ? (p[what] as Record<string, unknown>) : {};
    p[what] = { ...base, ...(allow !== undefined ? { allow } : {}), ...(deny !== undefined ? { deny } : {}) };
  }
  if (withRoles) {
    const owners = list(args, '--owner');
    const moderators = list(args, '--moderator');
    if (owners !== undefined) p.owners = owners;
    if (moderators !== undefined) p.moderators = moderators;
  }
  return Object.keys(p).length > 0 ? p : undefined;
}

interface RoomView {
  room: string;
  state: unknown;
  static: boolean;
  historySize: number;
  policy: { create: { allow: string[]; deny: string[] }; join: { allow: string[]; deny: string[] }; owners: string[]; moderators: string[] };
  participants: Array<{ uri: string; displayName?: string; status: string; since: string }>;
}

const joined = (xs: readonly string[]) => (xs.length > 0 ? xs.join(', ') : '-');

/** A room as text, one field a line. */
export function formatRoom(v: RoomView): string {
  const lines = [
    `room          ${v.room}`,
    `kind          ${v.static ? 'static' : 'ad hoc'}, ${typeof v.state === 'string' ? v.state : JSON.stringify(v.state)}`,
    `history       ${v.historySize} messages`,
    `owners        ${joined(v.policy.owners)}`,
    `moderators    ${joined(v.policy.moderators)}`,
    `join          allow ${joined(v.policy.join.allow)}; deny ${joined(v.policy.join.deny)}`,
    `create        allow ${joined(v.policy.create.allow)}; deny ${joined(v.policy.create.deny)}`,
    `participants  ${v.participants.length}`,
    ...v.participants.map((p) => `  ${p.uri}${p.displayName ? ` (${p.displayName})` : ''}  ${p.status} since ${p.since}`),
  ];
  return lines.join('\n') + '\n';
}

const create: AdminCommand = {
  spec: {
    name: 'create',
    positionals: ['ROOM'],
    flags: [...roleFlags, ...accessFlags, historyFlag, policyFlag],
    summary: 'Provision a static room: it persists, survives restarts and is never removed by SIP.',
    details: `${LISTS_NOTE}\n\nExample:\n  parley rooms create sip:dev@conference.example.com --owner sip:alice@example.com --allow-join @example.com --history 100`,
  },
  async run(args, client) {
    const policy = policyOf(args, true);
    const historySize = intFlag(args, '--history', 0, 1000);
    const body = { room: args.positionals[0], ...(policy ? { policy } : {}), ...(historySize !== undefined ? { historySize } : {}) };
    const v = await client.request<RoomView>('POST', '/api/admin/rooms', body);
    return { json: v, text: `created\n${formatRoom(v)}` };
  },
};

const listRooms: AdminCommand = {
  spec: {
    name: 'list',
    positionals: [],
    flags: [
      { name: '--static', help: 'static rooms only' },
      { name: '--adhoc', help: 'ad-hoc rooms only' },
      { name: '--limit', value: 'N', help: 'rooms per page, 1-500 (default 100)' },
      { name: '--after', value: 'ROOM', help: 'start after this room (the "next" of the previous page)' },
    ],
    summary: 'List rooms in URI order: kind, state, participants, history size.',
  },
  async run(args, client) {
    if (args.flags.has('--static') && args.flags.has('--adhoc')) throw new UsageError('--static and --adhoc exclude each other');
    const kind = args.flags.has('--static') ? 'true' : args.flags.has('--adhoc') ? 'false' : undefined;
    const path = withQuery('/api/admin/rooms', { static: kind, limit: intFlag(args, '--limit', 1, 500), after: one(args, '--after') });
    const page = await client.request<{ rooms: Array<{ room: string; static: boolean; state: unknown; participants: number; historySize: number }>; next?: string }>('GET', path);
    const rows = page.rooms.map((r) => `${r.room}  ${r.static ? 'static' : 'ad-hoc'}  ${String(r.state)}  ${r.participants} participant${r.participants === 1 ? '' : 's'}  history ${r.historySize}`);
    const text = (rows.length > 0 ? rows.join('\n') + '\n' : 'no rooms\n') + (page.next !== undefined ? `more: parley rooms list --after ${page.next}\n` : '');
    return { json: page, text };
  },
};

const show: AdminCommand = {
  spec: { name: 'show', positionals: ['ROOM'], flags: [], summary: 'Show a room: kind, state, policy, history size, participants.' },
  async run(args, client) {
    const v = await client.request<RoomView>('GET', roomPath(args.positionals[0]));
    return { json: v, text: formatRoom(v) };
  },
};

const del: AdminCommand = {
  spec: { name: 'delete', positionals: ['ROOM'], flags: [], summary: 'Delete a room (static or ad hoc): every participant gets a BYE, the room and its history go.' },
  async run(args, client) {
    const r = await client.request<{ room: string; participants: number }>('DELETE', roomPath(args.positionals[0]));
    return { json: r, text: `deleted ${r.room} (${r.participants} participant${r.participants === 1 ? '' : 's'} ended)\n` };
  },
};

const setPolicy: AdminCommand = {
  spec: {
    name: 'set-policy',
    positionals: ['ROOM'],
    flags: [...accessFlags, ...roleFlags, historyFlag, policyFlag],
    summary: "Change a static room's policy and history size; what is not given is kept. Participants already in stay.",
    details: `${LISTS_NOTE}\n\nExample:\n  parley rooms set-policy sip:dev@conference.example.com --deny-join sip:mallory@example.com --history 20`,
  },
  async run(args, client) {
    return patch(args, client, true);
  },
};

const setOwners: AdminCommand = {
  spec: {
    name: 'set-owners',
    positionals: ['ROOM'],
    flags: roleFlags,
    summary: "Replace a static room's owners and/or moderators (the ones not given are kept).",
    details: 'Example:\n  parley rooms set-owners sip:dev@conference.example.com --owner sip:alice@example.com --moderator=',
  },
  async run(args, client) {
    return patch(args, client, false);
  },
};

async function patch(args: ParsedArgs, client: AdminClient, all: boolean): Promise<{ json: unknown; text: string }> {
  const policy = all ? policyOf(args, true) : rolesOnly(args);
  const historySize = all ? intFlag(args, '--history', 0, 1000) : undefined;
  if (policy === undefined && historySize === undefined) throw new UsageError('nothing to change: give at least one option');
  const v = await client.request<RoomView>('PATCH', roomPath(args.positionals[0]), { ...(policy ? { policy } : {}), ...(historySize !== undefined ? { historySize } : {}) });
  return { json: v, text: `changed\n${formatRoom(v)}` };
}

function rolesOnly(args: ParsedArgs): Record<string, unknown> | undefined {
  const owners = list(args, '--owner');
  const moderators = list(args, '--moderator');
  if (owners === undefined && moderators === undefined) return undefined;
  return { ...(owners !== undefined ? { owners } : {}), ...(moderators !== undefined ? { moderators } : {}) };
}

export const roomsGroup: CommandGroup = {
  name: 'rooms',
  summary: 'static chat rooms: create, list, show, delete, set-policy, set-owners',
  commands: [create, listRooms, show, del, setPolicy, setOwners],
};
