import type { MsrpRequest } from './message.js';
import { msrpPathEquals, type MsrpUri } from './msrpUri.js';

/** What the router needs to know of a session. */
export interface RoutableSession<C> {
  readonly id: string;
  /** The connection carrying the session, once bound. */
  readonly connection: C | undefined;
  /** True when the session waits for the peer to connect (we are passive, remote path known). */
  readonly expectingConnection: boolean;
  /** The peer path from SDP (a=path), once known. */
  readonly remotePath: readonly MsrpUri[] | undefined;
}

/** The routing decision for one inbound request. */
export type RouteDecision<S> =
  | { readonly ok: true; readonly session: S; readonly bind: boolean }
  | { readonly ok: false; readonly status: 403 | 481 | 506; readonly reason: string; readonly hijack: boolean };

/**
 * Decides whether a request received on `conn` may reach a session (RFC 4975 sections 5.4
 * and 14.1: the session URI is the shared secret; a connection carries only the sessions
 * negotiated for it). Unknown session -> 481; session bound to another connection -> 506
 * (a hijack attempt); From-Path other than the negotiated peer path -> 403.
 */
export function routeInbound<C, S extends RoutableSession<C>>(
  table: ReadonlyMap<string, S>,
  conn: C,
  req: Pick<MsrpRequest, 'toPath' | 'fromPath'>,
): RouteDecision<S> {
  // Parley uses no relays: the To-Path is our URI alone; its last URI names the session.
  const target = req.toPath[req.toPath.length - 1];
  const session = table.get(target.sessionId);
  if (session === undefined) return { ok: false, status: 481, reason: 'unknown session', hijack: false };
  if (session.connection !== undefined && session.connection !== conn) {
    return { ok: false, status: 506, reason: 'session bound to another connection', hijack: true };
  }
  if (session.remotePath === undefined || !msrpPathEquals(req.fromPath, session.remotePath)) {
    return { ok: false, status: 403, reason: 'From-Path is not the negotiated peer path', hijack: true };
  }
  if (session.connection === undefined) {
    if (!session.expectingConnection) return { ok: false, status: 481, reason: 'session does not expect a connection', hijack: false };
    return { ok: true, session, bind: true };
  }
  return { ok: true, session, bind: false };
}
