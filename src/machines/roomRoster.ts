/**
 * The room's roster subscriptions (RFC 4575 conference event package over RFC 6665): pure
 * bookkeeping of subscribers and the NOTIFYs each roster change calls for.
 *
 * The SIP side of a subscription (Event/Expires/Accept checks, refresh, NOTIFY building) is
 * `src/transport/sip/subscription.ts`, run by the application; the room keeps each
 * subscription as plain data and mirrors what `buildNotify` does to it (dialog CSeq + 1 per
 * NOTIFY, document version + 1 per NOTIFY with a body), so the snapshot always holds the state
 * the next NOTIFY starts from. Every roster change sends each subscriber one partial document
 * (version + 1); a new or refreshed subscription gets a full one.
 */
import type { ConferenceUser, UserChange } from '../formats/conferenceInfo.js';
import { sipNotifyRoster, type RoomEffect, type RosterDocument } from './effects.js';
import { identityOf } from './policy.js';

/** The fields of a `Subscription` (subscription.ts) the room reads; the rest rides along. */
export interface RosterSubscription {
  readonly state: 'pending' | 'active' | 'terminated';
  readonly expiresAt: number;
  readonly version: number;
  readonly reason?: string;
  readonly dialog: { readonly localTag: string; readonly localCSeq: number };
}

/** What a roster is made of: joined participants (a subset of conference.ts' Participant). */
export interface RosterParticipant {
  readonly id: string;
  readonly uri: string;
  readonly status: 'expected' | 'joined';
  readonly since: number;
  readonly nickname?: string;
  readonly displayName?: string;
  readonly dialog: unknown;
}

export interface RosterContext {
  readonly room: string;
  readonly participants: Readonly<Record<string, RosterParticipant>>;
  readonly subscribers?: Readonly<Record<string, RosterSubscription>>;
  readonly policy: { readonly owners: readonly string[]; readonly moderators: readonly string[] };
}

export const subscriptionTimerId = (id: string) => `sub:${id}`;

/** The state after `buildNotify` sent one NOTIFY (with a body or not). */
export function afterNotify<S extends RosterSubscription>(s: S, withBody: boolean): S {
  return { ...s, dialog: { ...s.dialog, localCSeq: s.dialog.localCSeq + 1 }, version: withBody ? s.version + 1 : s.version };
}

function remoteTargetOf(dialog: unknown): string | undefined {
  const t = (dialog as { remoteTarget?: unknown } | null)?.remoteTarget;
  return typeof t === 'string' ? t : undefined;
}

/** One roster user: every joined session of one identity is an endpoint (RFC 4575 5.7). */
export function rosterUser(ctx: RosterContext, identity: string): ConferenceUser | undefined {
  const ps = Object.values(ctx.participants).filter((p) => p.status === 'joined' && identityOf(p.uri) === identity);
  if (ps.length === 0) return undefined;
  const first = ps[0];
  const label = ps.find((p) => p.nickname !== undefined)?.nickname ?? first.displayName;
  const owner = ctx.policy.owners.some((o) => identityOf(o) === identity);
  return {
    entity: identity,
    ...(label !== undefined ? { displayText: label } : {}),
    roles: [owner ? 'administrator' : 'participant'],
    endpoints: ps.map((p) => ({
      entity: remoteTargetOf(p.dialog) ?? `${identity};participant=${p.id}`,
      status: 'connected' as const,
      joiningMethod: 'dialed-in',
      joiningInfo: { when: new Date(p.since).toISOString() },
      media: [{ id: '1', type: 'message', status: 'sendrecv' }],
    })),
  };
}

export function rosterUsers(ctx: RosterContext): ConferenceUser[] {
  const ids = [...new Set(Object.values(ctx.participants).filter((p) => p.status === 'joined').map((p) => identityOf(p.uri)))];
  return ids.map((id) => rosterUser(ctx, id)).filter((u): u is ConferenceUser => u !== undefined);
}

function userCount(ctx: RosterContext): number {
  return new Set(Object.values(ctx.participants).filter((p) => p.status === 'joined').map((p) => identityOf(p.uri))).size;
}

export function fullDocument(ctx: RosterContext): RosterDocument {
  return { kind: 'full', users: rosterUsers(ctx), userCount: userCount(ctx) };
}

/**
 * The partial NOTIFYs for a change of these identities (joined, left, renamed), given the
 * context after the change: one per live subscriber. Returns the effects and the advanced
 * subscribers to assign.
 */
export function notifyChanges(ctx: RosterContext, identities: readonly string[]): { effects: RoomEffect[]; subscribers: Record<string, RosterSubscription> } {
  const subs = ctx.subscribers ?? {};
  const live = Object.entries(subs).filter(([, s]) => s.state !== 'terminated');
  if (live.length === 0 || identities.length === 0) return { effects: [], subscribers: { ...subs } };
  const changes: UserChange[] = [...new Set(identities)].map((id) => {
    const u = rosterUser(ctx, id);
    return u === undefined ? { op: 'removed', entity: id } : { op: 'changed', user: u };
  });
  const doc: RosterDocument = { kind: 'partial', changes, userCount: userCount(ctx) };
  const effects: RoomEffect[] = [];
  const next: Record<string, RosterSubscription> = { ...subs };
  for (const [id, s] of live) {
    effects.push(sipNotifyRoster(ctx.room, s, doc));
    next[id] = afterNotify(s, true);
  }
  return { effects, subscribers: next };
}

/** Ends every subscription (room closed or deleted): a final NOTIFY without body each. */
export function endSubscriptions(ctx: RosterContext, reason: 'noresource' | 'deactivated'): RoomEffect[] {
  return Object.values(ctx.subscribers ?? {})
    .filter((s) => s.state !== 'terminated')
    .map((s) => sipNotifyRoster(ctx.room, { ...s, state: 'terminated', reason }, undefined));
}
