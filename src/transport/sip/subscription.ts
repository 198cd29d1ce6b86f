/**
 * The notifier side of a SIP event subscription (RFC 6665), as pure functions over plain data.
 *
 * An actor (a chat room for `Event: conference`, a mailbox for `Event: message-summary`) keeps
 * one `Subscription` per subscriber in its snapshot. These functions decide what to answer to
 * a SUBSCRIBE (200, 489, 423, 406, 400, 481, 500), compute the new subscription state, and build
 * the NOTIFY requests; the actor turns the results into effects (`sip.respond`, `sip.request`)
 * and arms a timer at `expiresAt`. Nothing here does I/O or reads the clock: `now` is passed in.
 *
 * Usage, initial SUBSCRIBE (out of dialog):
 *   const d = acceptSubscribe(req, { packages: [CONFERENCE_EVENT], localTag: incoming.localTag, now });
 *   incoming.respond(d.answer.status, d.answer.reason, { headers: d.answer.headers });
 *   if (d.ok) { const n = buildNotify(d.subscription, { now, contact, contentType, body }); send n.request }
 * In-dialog SUBSCRIBE (refresh, or Expires: 0 to unsubscribe): `refreshSubscription`, then a
 * NOTIFY (RFC 6665 4.2.1.2/4.2.2: every accepted SUBSCRIBE is followed by a NOTIFY at once).
 * Timer at `expiresAt`: `expireSubscription`, then the final NOTIFY.
 */
import { ProtocolError } from '../../errors.js';
import type { SipHeader, SipRequest } from './message.js';
import { getHeader, getHeaders, parseDeltaSeconds, parseHeaderParams, isToken, splitHeaderList } from './headers.js';
import { buildInDialogRequest, createUasDialog, dialogIdOfRequest, dialogKey, onRemoteRequest, type DialogState } from './dialog.js';
import { parseCSeq } from './nameAddr.js';

/** What the notifier offers for one event package (RFC 6665 7: each package defines these). */
export interface EventPackage {
  /** Event package name as in the Event header, compared byte by byte (RFC 6665 8.2.1). */
  readonly name: string;
  /** Body types this notifier can send, preferred first (Accept negotiation, RFC 6665 4.2.1.1). */
  readonly contentTypes: readonly string[];
  /** Granted duration in seconds when the SUBSCRIBE has no Expires. */
  readonly defaultExpires: number;
  /** Shortest duration accepted (except 0, a fetch); shorter gets 423 with Min-Expires. */
  readonly minExpires: number;
  /** Longest duration granted; a longer request is shortened to it (never lengthened, 4.2.1.1). */
  readonly maxExpires: number;
}

/** RFC 4575 conference package: default duration 3600 s (section 3.7). */
export const CONFERENCE_EVENT: EventPackage = Object.freeze({
  name: 'conference',
  contentTypes: Object.freeze(['application/conference-info+xml']),
  defaultExpires: 3600,
  minExpires: 60,
  maxExpires: 86400,
});

/** RFC 3842 message-summary package: default duration 3600 s (section 4.7). */
export const MESSAGE_SUMMARY_EVENT: EventPackage = Object.freeze({
  name: 'message-summary',
  contentTypes: Object.freeze(['application/simple-message-summary']),
  defaultExpires: 3600,
  minExpires: 60,
  maxExpires: 86400,
});

/**
 * RFC 3515 refer package: the implicit subscription of a REFER. No Expires in a REFER, so the
 * notifier picks the duration (2.4.4); a few minutes covers an INVITE to answer (timer C).
 */
export const REFER_EVENT: EventPackage = Object.freeze({
  name: 'refer',
  contentTypes: Object.freeze(['message/sipfrag']),
  defaultExpires: 360,
  minExpires: 1,
  maxExpires: 3600,
});

/** Parsed Event header (RFC 6665 8.2.1): package, optional `id`, other parameters. */
export interface EventHeader {
  readonly package: string;
  readonly id?: string;
  readonly params: Readonly<Record<string, string | null>>;
}

/** `Subscription-State` reasons (RFC 6665 8.2.3 and the IANA registry). */
export type TerminationReason = 'deactivated' | 'probation' | 'rejected' | 'timeout' | 'giveup' | 'noresource' | 'invariant';

/** One subscription, notifier side; plain JSON-serializable data kept in an actor snapshot. */
export interface Subscription {
  /** The dialog the subscription lives in (RFC 6665 4.1.2.1: created by the SUBSCRIBE). */
  readonly dialog: DialogState;
  /** Event package (the Event header's type). */
  readonly event: string;
  /** The Event `id` parameter, when the SUBSCRIBE had one; echoed in every NOTIFY. */
  readonly eventId?: string;
  /** Body type negotiated from the SUBSCRIBE's Accept. */
  readonly contentType: string;
  /** `pending` (waiting for authorization), `active`, or `terminated` (final NOTIFY due or sent). */
  readonly state: 'pending' | 'active' | 'terminated';
  /** Absolute expiry time, ms since the epoch, from the injected `now`; arm the timer here. */
  readonly expiresAt: number;
  /** Version of the last document sent (RFC 4575 / RFC 3680 `version`); 0 before the first body. */
  readonly version: number;
  /** Why it ended, when `terminated`. */
  readonly reason?: TerminationReason;
  /** Seconds after which the subscriber may retry, sent with `terminated` (RFC 6665 8.2.3). */
  readonly retryAfter?: number;
}

/** A response to give: pass to `IncomingRequest.respond(status, reason, { headers })`. */
export interface SubscribeAnswer {
  readonly status: number;
  readonly reason?: string;
  readonly headers: SipHeader[];
}

/** Result of a SUBSCRIBE (or REFER): the answer and, when accepted, the new state. */
export type SubscribeDecision =
  | { readonly ok: true; readonly answer: SubscribeAnswer; readonly subscription: Subscription }
  | { readonly ok: false; readonly answer: SubscribeAnswer };

/** Limits on what a SUBSCRIBE may carry into the snapshot. */
export interface SubscriptionLimits {
  /** Longest Event header value. Default 256. */
  readonly maxEventBytes: number;
  /** Most Accept entries looked at. Default 32. */
  readonly maxAcceptEntries: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = Object.freeze({ maxEventBytes: 256, maxAcceptEntries: 32 });

/** Options of `acceptSubscribe`. */
export interface AcceptSubscribeOptions {
  /** Packages this notifier serves; anything else gets 489 with Allow-Events. */
  readonly packages: readonly EventPackage[];
  /** The To tag of the answer (`IncomingRequest.localTag`). */
  readonly localTag: string;
  /** Current time, ms since the epoch. */
  readonly now: number;
  /** Start in `pending` (authorization not decided yet; RFC 6665 4.2.1.1 still answers 200). */
  readonly pending?: boolean;
  readonly limits?: Partial<SubscriptionLimits>;
}

/** Options of `refreshSubscription`. */
export interface RefreshOptions {
  /** The package definition for the subscription's event (limits and default duration). */
  readonly package: EventPackage;
  readonly now: number;
  readonly limits?: Partial<SubscriptionLimits>;
}

/** Options of `buildNotify`. */
export interface NotifyOptions {
  readonly now: number;
  /** Our Contact URI (NOTIFY is a target refresh request and must carry one, RFC 6665 8.1). */
  readonly contact: string;
  /**
   * The body: bytes or text, or a function given the document version this NOTIFY carries
   * (`subscription.version + 1`) for formats that embed it (conference-info). No body: no
   * Content-Type, version unchanged.
   */
  readonly body?: string | Buffer | ((version: number) => string | Buffer);
  /** Body type; default the subscription's negotiated type. */
  readonly contentType?: string;
  /** Extra headers (Allow-Events, Subscription-Expires...). */
  readonly headers?: readonly SipHeader[];
}

/** Answer helper: reason phrases come from the serializer when absent. */
function answer(status: number, reason?: string, headers: SipHeader[] = []): SubscribeAnswer {
  return reason === undefined ? { status, headers } : { status, reason, headers };
}

function limitsOf(l: Partial<SubscriptionLimits> | undefined): SubscriptionLimits {
  return { ...DEFAULT_SUBSCRIPTION_LIMITS, ...l };
}

/**
 * Parses an Event header value (RFC 6665 8.2.1: `event-type *( ";" event-param )`, with `id`).
 * The package is a token, optionally with `.template` parts (`presence.winfo`). Returns a
 * ProtocolError(400) when malformed or longer than `maxBytes`.
 */
export function parseEventHeader(value: string, maxBytes = DEFAULT_SUBSCRIPTION_LIMITS.maxEventBytes): EventHeader | ProtocolError {
  if (value.length > maxBytes) return new ProtocolError('SIP_BAD_EVENT_HEADER', 400, `Bad Request - Event header over ${maxBytes} bytes`);
  const semi = value.indexOf(';');
  const pkg = (semi < 0 ? value : value.slice(0, semi)).trim();
  if (!isToken(pkg)) return new ProtocolError('SIP_BAD_EVENT_HEADER', 400, 'Bad Request - malformed Event header');
  const params = semi < 0 ? {} : parseHeaderParams(value.slice(semi));
  const rawId = params.id;
  if (rawId === null) return new ProtocolError('SIP_BAD_EVENT_HEADER', 400, 'Bad Request - Event id without value');
  if (rawId === undefined) return { package: pkg, params };
  // id is a token (RFC 6665 8.4); a quoted form is tolerated and unquoted for comparison.
  const id = rawId.startsWith('"') && rawId.endsWith('"') && rawId.length >= 2 ? rawId.slice(1, -1) : rawId;
  return { package: pkg, id, params };
}

/** Formats an Event header value: `conference` or `refer;id=93809824`. */
export function formatEventHeader(event: string, id?: string): string {
  return id === undefined ? event : `${event};id=${id}`;
}

/** The Event header of a request, parsed; a ProtocolError(400) when missing, repeated or malformed. */
export function eventOfRequest(req: SipRequest, maxBytes?: number): EventHeader | ProtocolError {
  const values = getHeaders(req, 'event');
  // RFC 6665 8.2.1: exactly one Event header field in SUBSCRIBE and NOTIFY.
  if (values.length === 0) return new ProtocolError('SIP_NO_EVENT', 400, 'Bad Request - missing Event header');
  if (values.length > 1) return new ProtocolError('SIP_BAD_EVENT_HEADER', 400, 'Bad Request - more than one Event header');
  return parseEventHeader(values[0], maxBytes);
}

/**
 * The Expires asked for: undefined when absent, or when an overlarge number (RFC 4475 3.1.2.4
 * lets the default apply); a ProtocolError(400) when not a number.
 */
function requestedExpires(req: SipRequest): number | undefined | ProtocolError {
  const v = getHeader(req, 'expires');
  if (v === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(v)) return new ProtocolError('SIP_BAD_EXPIRES', 400, 'Bad Request - malformed Expires');
  return parseDeltaSeconds(v);
}

/**
 * The duration to grant (RFC 6665 4.2.1.1): absent -> the package default; over the maximum ->
 * shortened (a notifier may shorten, never lengthen); 0 stays 0 (fetch or unsubscribe); above 0
 * and below the minimum -> 423 with Min-Expires.
 */
export function grantExpires(asked: number | undefined, pkg: EventPackage): { ok: true; expires: number } | { ok: false; answer: SubscribeAnswer } {
  if (asked === undefined) return { ok: true, expires: Math.min(pkg.defaultExpires, pkg.maxExpires) };
  if (asked === 0) return { ok: true, expires: 0 };
  if (asked < pkg.minExpires) {
    return { ok: false, answer: answer(423, 'Interval Too Brief', [{ name: 'min-expires', value: String(pkg.minExpires) }]) };
  }
  return { ok: true, expires: Math.min(asked, pkg.maxExpires) };
}

/** True when `type` (e.g. `application/conference-info+xml`) matches an Accept range (`application/*`, `*\/*`). */
function mediaMatches(range: string, type: string): boolean {
  const r = range.split(';')[0].trim().toLowerCase();
  const t = type.toLowerCase();
  if (r === '*/*' || r === t) return true;
  return r.endsWith('/*') && t.startsWith(r.slice(0, -1));
}

/**
 * The body type to send (RFC 6665 4.2.1.1, RFC 3261 20.1): without Accept, the package's first
 * type; else the first of the package's types the Accept admits (a `q=0` entry excludes);
 * undefined when none.
 */
export function negotiateContentType(req: SipRequest, pkg: EventPackage, maxEntries = DEFAULT_SUBSCRIPTION_LIMITS.maxAcceptEntries): string | undefined {
  const values = getHeaders(req, 'accept').flatMap((v) => splitHeaderList(v));
  if (values.length === 0) return pkg.contentTypes[0];
  const ranges = values.slice(0, maxEntries).filter((v) => {
    const q = parseHeaderParams(v.includes(';') ? v.slice(v.indexOf(';')) : '').q;
    return !(typeof q === 'string' && /^0(\.0{0,3})?$/.test(q));
  });
  return pkg.contentTypes.find((t) => ranges.some((r) => mediaMatches(r, t)));
}

/** `Allow-Events` value listing the packages served (RFC 6665 8.2.2, in a 489). */
function allowEvents(packages: readonly EventPackage[]): SipHeader {
  return { name: 'allow-events', value: packages.map((p) => p.name).join(', ') };
}

function rejection(e: ProtocolError): SubscribeDecision {
  return { ok: false, answer: answer(e.status, e.message) };
}

/**
 * An out-of-dialog SUBSCRIBE (RFC 6665 4.2.1.1): checks Event (400 missing/malformed, 489 with
 * Allow-Events for an unknown package), Expires (400 malformed, 423 too brief), Accept (406 when
 * no body type fits), the dialog headers (400), then accepts with 200 and Expires = granted
 * duration. Expires 0 is a fetch: accepted, already `terminated` with reason timeout, so the
 * one NOTIFY that follows carries the state and ends it (RFC 6665 4.4.3). Never throws.
 */
export function acceptSubscribe(req: SipRequest, options: AcceptSubscribeOptions): SubscribeDecision {
  const limits = limitsOf(options.limits);
  if (req.method !== 'SUBSCRIBE') return { ok: false, answer: answer(405, undefined, [{ name: 'allow', value: 'SUBSCRIBE' }]) };
  const ev = eventOfRequest(req, limits.maxEventBytes);
  if (ev instanceof ProtocolError) return rejection(ev);
  const pkg = options.packages.find((p) => p.name === ev.package);
  if (pkg === undefined) return { ok: false, answer: answer(489, 'Bad Event', [allowEvents(options.packages)]) };
  const asked = requestedExpires(req);
  if (asked instanceof ProtocolError) return rejection(asked);
  const granted = grantExpires(asked, pkg);
  if (!granted.ok) return granted;
  const contentType = negotiateContentType(req, pkg, limits.maxAcceptEntries);
  if (contentType === undefined) return { ok: false, answer: answer(406, 'Not Acceptable', [{ name: 'accept', value: pkg.contentTypes.join(', ') }]) };
  let dialog: DialogState;
  try {
    dialog = createUasDialog(req, options.localTag);
  } catch (e) {
    if (e instanceof ProtocolError) return rejection(e);
    return { ok: false, answer: answer(400, 'Bad Request - unusable dialog headers') };
  }
  const base = {
    dialog,
    event: pkg.name,
    ...(ev.id !== undefined ? { eventId: ev.id } : {}),
    contentType,
    expiresAt: options.now + granted.expires * 1000,
    version: 0,
  };
  const subscription: Subscription =
    granted.expires === 0 ? { ...base, state: 'terminated', reason: 'timeout' } : { ...base, state: options.pending ? 'pending' : 'active' };
  return { ok: true, subscription, answer: answer(200, 'OK', [{ name: 'expires', value: String(granted.expires) }]) };
}

/**
 * True when an in-dialog request (SUBSCRIBE refresh, or a NOTIFY answer's request) belongs to
 * this subscription: same dialog and same Event package and id (RFC 6665 4.1.2.4, 8.2.1).
 */
export function matchesSubscription(sub: Subscription, req: SipRequest): boolean {
  const id = dialogIdOfRequest(req);
  if (id === undefined || dialogKey(id) !== subscriptionDialogKey(sub)) return false;
  const ev = eventOfRequest(req);
  return !(ev instanceof ProtocolError) && ev.package === sub.event && ev.id === sub.eventId;
}

/** The dialog key of a subscription (`dialogKey`), to index subscriptions by dialog. */
export function subscriptionDialogKey(sub: Subscription): string {
  return dialogKey({ callId: sub.dialog.callId, localTag: sub.dialog.localTag, remoteTag: sub.dialog.remoteTag });
}

/** A key unique per subscription: dialog plus Event package and id (RFC 6665 4.1.2.4). */
export function subscriptionKey(sub: Subscription): string {
  return `${subscriptionDialogKey(sub)}\u0000${sub.event}\u0000${sub.eventId ?? ''}`;
}

/**
 * An in-dialog SUBSCRIBE for `sub` (RFC 6665 4.2.1.2): checks CSeq order (500), Event (400;
 * 489 for another package; 481 for another id: no such subscription in this dialog), Expires
 * (400, 423); updates the remote target and the expiry. Expires 0 unsubscribes: 200, then the
 * state is `terminated` with reason timeout and the caller sends the final NOTIFY. A refresh of
 * a terminated subscription gets 481. Never throws.
 */
export function refreshSubscription(sub: Subscription, req: SipRequest, options: RefreshOptions): SubscribeDecision {
  const limits = limitsOf(options.limits);
  if (sub.state === 'terminated') return { ok: false, answer: answer(481, 'Subscription Does Not Exist') };
  // CSeq order first (RFC 3261 12.2.2): an out-of-order request is not looked at further.
  const moved = onRemoteRequest(sub.dialog, req);
  if (!moved.ok) return { ok: false, answer: answer(moved.status, moved.reason) };
  const ev = eventOfRequest(req, limits.maxEventBytes);
  if (ev instanceof ProtocolError) return rejection(ev);
  if (ev.package !== sub.event) return { ok: false, answer: answer(489, 'Bad Event', [{ name: 'allow-events', value: sub.event }]) };
  if (ev.id !== sub.eventId) return { ok: false, answer: answer(481, 'Subscription Does Not Exist') };
  const asked = requestedExpires(req);
  if (asked instanceof ProtocolError) return rejection(asked);
  const granted = grantExpires(asked, options.package);
  if (!granted.ok) return granted;
  const base = { ...sub, dialog: moved.dialog, expiresAt: options.now + granted.expires * 1000 };
  const subscription: Subscription = granted.expires === 0 ? { ...base, state: 'terminated', reason: 'timeout' } : base;
  return { ok: true, subscription, answer: answer(200, 'OK', [{ name: 'expires', value: String(granted.expires) }]) };
}

/** Seconds left, rounded up so a NOTIFY sent right away repeats the granted duration. */
export function remainingSeconds(sub: Subscription, now: number): number {
  return Math.max(0, Math.ceil((sub.expiresAt - now) / 1000));
}

/** True when the subscription is still live and its expiry time has come. */
export function isExpired(sub: Subscription, now: number): boolean {
  return sub.state !== 'terminated' && now >= sub.expiresAt;
}

/**
 * The expiry timer fired (RFC 6665 4.2.1.2): a live subscription past `expiresAt` becomes
 * `terminated;reason=timeout` (send the final NOTIFY); otherwise it is returned unchanged, so
 * an early or stale timer (after a refresh moved `expiresAt`) does nothing.
 */
export function expireSubscription(sub: Subscription, now: number): Subscription {
  return isExpired(sub, now) ? { ...sub, state: 'terminated', reason: 'timeout' } : sub;
}

/**
 * Ends a subscription for a reason of the notifier's (RFC 6665 4.2.2: the room is gone ->
 * `noresource`, the user was removed -> `deactivated`/`rejected`); the caller sends the final
 * NOTIFY. `retryAfter` (seconds) rides on Subscription-State.
 */
export function terminateSubscription(sub: Subscription, reason: TerminationReason, retryAfter?: number): Subscription {
  const rest: Subscription = { ...sub };
  delete (rest as { retryAfter?: number }).retryAfter;
  return { ...rest, state: 'terminated', reason, ...(retryAfter !== undefined ? { retryAfter: Math.max(0, Math.floor(retryAfter)) } : {}) };
}

/** Authorization came through for a `pending` subscription (RFC 6665 4.2.1.3): now `active`. */
export function activateSubscription(sub: Subscription): Subscription {
  return sub.state === 'pending' ? { ...sub, state: 'active' } : sub;
}

/** The Subscription-State value for the current state (RFC 6665 8.2.3). */
export function subscriptionStateValue(sub: Subscription, now: number): string {
  if (sub.state === 'terminated') {
    let v = `terminated;reason=${sub.reason ?? 'timeout'}`;
    if (sub.retryAfter !== undefined) v += `;retry-after=${sub.retryAfter}`;
    return v;
  }
  return `${sub.state};expires=${remainingSeconds(sub, now)}`;
}

/** The document version the next NOTIFY with a body carries (RFC 4575: start at 1, +1 each). */
export function nextDocumentVersion(sub: Subscription): number {
  return sub.version + 1;
}

/**
 * Builds a NOTIFY in the subscription's dialog (RFC 6665 4.2.2, 8.1) with Event (and id),
 * Subscription-State, Contact, and the body with its Content-Type. Returns the new state (dialog
 * CSeq advanced, version increased when a body was sent) and the request to pass to
 * `SipTransport.sendRequest(request, { dialog: subscription.dialog })`. After a `terminated`
 * NOTIFY the subscription is over: drop it once the request is sent.
 */
export function buildNotify(sub: Subscription, options: NotifyOptions): { subscription: Subscription; request: SipRequest } {
  const version = sub.version + 1;
  const raw = typeof options.body === 'function' ? options.body(version) : options.body;
  const headers: SipHeader[] = [
    { name: 'event', value: formatEventHeader(sub.event, sub.eventId) },
    { name: 'subscription-state', value: subscriptionStateValue(sub, options.now) },
    { name: 'contact', value: `<${options.contact}>` },
    ...(raw !== undefined ? [{ name: 'content-type', value: options.contentType ?? sub.contentType }] : []),
    ...(options.headers ?? []),
  ];
  const built = buildInDialogRequest(sub.dialog, 'NOTIFY', { headers, ...(raw !== undefined ? { body: raw } : {}) });
  return { subscription: { ...sub, dialog: built.dialog, version: raw !== undefined ? version : sub.version }, request: built.request };
}

/**
 * The answer to a NOTIFY we sent (RFC 6665 4.2.2): 2xx keeps the subscription; 401/407 keep
 * it (authentication is the transport's business); any other final failure, including the
 * 408/503 the transport synthesizes on timeout or transport error, and 481, removes it.
 * Returns `keep` or `remove`; a removed subscription needs no further NOTIFY.
 */
export function onNotifyResponse(status: number): 'keep' | 'remove' {
  if (status < 300 || status === 401 || status === 407) return 'keep';
  return 'remove';
}

/** Options of `acceptRefer`. */
export interface AcceptReferOptions {
  /** The To tag of the answer, for a REFER outside a dialog (`IncomingRequest.localTag`). */
  readonly localTag: string;
  readonly now: number;
  /** The dialog a REFER inside an existing dialog (an INVITE's) arrived in; its subscription shares it. */
  readonly dialog?: DialogState;
  /** Duration of the implicit subscription; default REFER_EVENT.defaultExpires. */
  readonly expires?: number;
}

/**
 * A REFER's implicit subscription (RFC 3515 2.4.4-2.4.6). Refer-To missing or repeated ->
 * 400. Accepted -> 202 Accepted. The Event of its NOTIFYs is `refer;id=<REFER CSeq>` (the id
 * is required only from the second REFER in a dialog, but is always allowed, and keeps
 * several REFERs apart). `Refer-Sub: false` (RFC 4488) asks for no subscription: the answer
 * echoes `Refer-Sub: false` and `subscription` is absent. Never throws.
 */
export function acceptRefer(
  req: SipRequest,
  options: AcceptReferOptions,
): { ok: true; answer: SubscribeAnswer; subscription?: Subscription; referTo: string } | { ok: false; answer: SubscribeAnswer } {
  if (req.method !== 'REFER') return { ok: false, answer: answer(405, undefined, [{ name: 'allow', value: 'REFER' }]) };
  const referTo = getHeaders(req, 'refer-to');
  if (referTo.length !== 1) return { ok: false, answer: answer(400, 'Bad Request - exactly one Refer-To required') };
  const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
  if (cseq === undefined) return { ok: false, answer: answer(400, 'Bad Request - malformed CSeq') };
  const noSub = (getHeader(req, 'refer-sub') ?? '').trim().toLowerCase() === 'false';
  if (noSub) return { ok: true, answer: answer(202, 'Accepted', [{ name: 'refer-sub', value: 'false' }]), referTo: referTo[0] };
  let dialog: DialogState;
  if (options.dialog !== undefined) {
    const moved = onRemoteRequest(options.dialog, req);
    if (!moved.ok) return { ok: false, answer: answer(moved.status, moved.reason) };
    dialog = moved.dialog;
  } else {
    try {
      dialog = createUasDialog(req, options.localTag);
    } catch (e) {
      return { ok: false, answer: answer(400, e instanceof ProtocolError ? e.message : 'Bad Request - unusable dialog headers') };
    }
  }
  const expires = Math.max(1, Math.floor(options.expires ?? REFER_EVENT.defaultExpires));
  const subscription: Subscription = {
    dialog,
    event: REFER_EVENT.name,
    eventId: String(cseq.seq),
    // The RFC 3515 examples label the fragment's SIP version; some UAs expect the parameter.
    contentType: `${REFER_EVENT.contentTypes[0]};version=2.0`,
    state: 'active',
    expiresAt: options.now + expires * 1000,
    version: 0,
  };
  return { ok: true, answer: answer(202, 'Accepted'), subscription, referTo: referTo[0] };
}
