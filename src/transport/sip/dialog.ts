/**
 * Dialogs as plain data (RFC 3261 section 12). A `DialogState` lives in an actor's snapshot,
 * not in the transport; these pure functions create it (UAS from INVITE/SUBSCRIBE, UAC from a
 * 2xx), build requests inside it and update it when the peer sends one.
 */
import { ProtocolError } from '../../errors.js';
import type { SipHeader, SipRequest, SipResponse } from './message.js';
import { getHeader, getHeaders } from './headers.js';
import { formatNameAddr, parseCSeq, parseNameAddr } from './nameAddr.js';
import { parseUri } from './uri.js';

/** Call-ID + local tag + remote tag (RFC 3261 12). */
export interface DialogId {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
}

/** Everything needed to send and check requests in one dialog; JSON-serializable. */
export interface DialogState {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Local URI (From of our requests), without tag. */
  readonly localUri: string;
  /** Remote URI (To of our requests), without tag. */
  readonly remoteUri: string;
  /** Last CSeq number we used; 0 until our first request as UAS (12.1.1: "empty"). */
  readonly localCSeq: number;
  /** Last CSeq number the peer used; 0 when unknown (12.1.2). */
  readonly remoteCSeq: number;
  /** Route set, each a Record-Route value (name-addr), in the order to put in Route. */
  readonly routeSet: string[];
  /** Remote target: the URI of the peer's Contact. */
  readonly remoteTarget: string;
  /** True when the dialog was set up with a sips: Request-URI (12.1.1). */
  readonly secure: boolean;
  readonly role: 'uas' | 'uac';
}

/** `callId;localTag;remoteTag`: a Map key for a dialog id. */
export function dialogKey(id: DialogId): string {
  return `${id.callId}\u0000${id.localTag}\u0000${id.remoteTag}`;
}

/** The id of a dialog state. */
export function dialogIdOf(d: DialogState): DialogId {
  return { callId: d.callId, localTag: d.localTag, remoteTag: d.remoteTag };
}

function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = parseNameAddr(value)?.params.tag;
  return typeof t === 'string' && t.length > 0 ? t : undefined;
}

/**
 * The dialog id of a received request, seen from this side (To tag = local, From tag = remote);
 * undefined when the request has no To tag (out of dialog).
 */
export function dialogIdOfRequest(req: SipRequest): DialogId | undefined {
  const localTag = tagOf(getHeader(req, 'to'));
  if (localTag === undefined) return undefined;
  return { callId: getHeader(req, 'call-id') ?? '', localTag, remoteTag: tagOf(getHeader(req, 'from')) ?? '' };
}

/** The dialog id of a response to our request (From tag = local, To tag = remote). */
export function dialogIdOfResponse(res: SipResponse): DialogId | undefined {
  const remoteTag = tagOf(getHeader(res, 'to'));
  const localTag = tagOf(getHeader(res, 'from'));
  if (remoteTag === undefined || localTag === undefined) return undefined;
  return { callId: getHeader(res, 'call-id') ?? '', localTag, remoteTag };
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new ProtocolError('SIP_DIALOG_HEADER', 400, `Bad Request - ${what}`);
  return v;
}

function contactTarget(msg: { headers: readonly SipHeader[] }): string {
  const c = must(getHeader(msg, 'contact'), 'missing Contact');
  return must(parseNameAddr(c), 'malformed Contact').uri;
}

/**
 * UAS side (RFC 3261 12.1.1): from a dialog-creating request (INVITE, SUBSCRIBE, REFER) and
 * the To tag we answer with. Route set = Record-Route in order; remote target = Contact.
 * Throws ProtocolError(400) when Contact, From or CSeq is unusable.
 */
export function createUasDialog(req: SipRequest, localTag: string): DialogState {
  const from = must(parseNameAddr(getHeader(req, 'from') ?? ''), 'malformed From');
  const to = must(parseNameAddr(getHeader(req, 'to') ?? ''), 'malformed To');
  const cseq = must(parseCSeq(getHeader(req, 'cseq') ?? ''), 'malformed CSeq');
  return {
    callId: must(getHeader(req, 'call-id'), 'missing Call-ID'),
    localTag,
    remoteTag: typeof from.params.tag === 'string' ? from.params.tag : '',
    localUri: to.uri,
    remoteUri: from.uri,
    localCSeq: 0,
    remoteCSeq: cseq.seq,
    routeSet: getHeaders(req, 'record-route'),
    remoteTarget: contactTarget(req),
    secure: parseUri(req.uri)?.scheme === 'sips',
    role: 'uas',
  };
}

/**
 * UAC side (RFC 3261 12.1.2): from our request and a 2xx (or 1xx with To tag). Route set =
 * Record-Route reversed; remote target = the response's Contact; local CSeq = the request's.
 */
export function createUacDialog(req: SipRequest, res: SipResponse): DialogState {
  const from = must(parseNameAddr(getHeader(req, 'from') ?? ''), 'malformed From');
  const to = must(parseNameAddr(getHeader(res, 'to') ?? ''), 'malformed To');
  const remoteTag = to.params.tag;
  if (typeof remoteTag !== 'string') throw new ProtocolError('SIP_DIALOG_HEADER', 400, 'Bad Request - response without To tag');
  const cseq = must(parseCSeq(getHeader(req, 'cseq') ?? ''), 'malformed CSeq');
  return {
    callId: must(getHeader(req, 'call-id'), 'missing Call-ID'),
    localTag: typeof from.params.tag === 'string' ? from.params.tag : '',
    remoteTag,
    localUri: from.uri,
    remoteUri: to.uri,
    localCSeq: cseq.seq,
    remoteCSeq: 0,
    routeSet: getHeaders(res, 'record-route').reverse(),
    remoteTarget: contactTarget(res),
    secure: parseUri(req.uri)?.scheme === 'sips',
    role: 'uac',
  };
}

/** Extra content of an in-dialog request. */
export interface InDialogOptions {
  readonly headers?: readonly SipHeader[];
  readonly body?: Buffer | string;
  /** CSeq number to use (ACK and CANCEL reuse the INVITE's, RFC 3261 13.2.2.4, 9.1). */
  readonly cseq?: number;
}

/**
 * Builds a request inside the dialog (RFC 3261 12.2.1.1): Request-URI = remote target with a
 * loose-routing route set (or the first route, with the remote target appended as last Route,
 * when the first route is a strict router), To/From with tags, Call-ID, CSeq = local CSeq + 1.
 * ACK and CANCEL do not advance the CSeq. Returns the updated state and the request (no Via:
 * the transport adds it).
 */
export function buildInDialogRequest(
  dialog: DialogState,
  method: string,
  options: InDialogOptions = {},
): { dialog: DialogState; request: SipRequest } {
  const reuse = method === 'ACK' || method === 'CANCEL';
  const seq = options.cseq ?? (reuse ? dialog.localCSeq : dialog.localCSeq + 1);
  const next = reuse || seq <= dialog.localCSeq ? dialog : { ...dialog, localCSeq: seq };
  let uri = dialog.remoteTarget;
  let routes = dialog.routeSet;
  if (routes.length > 0) {
    const first = parseNameAddr(routes[0]);
    const firstUri = first ? parseUri(first.uri) : undefined;
    if (first && firstUri && !('lr' in firstUri.params)) {
      // Strict router (12.2.1.1): it becomes the Request-URI, the remote target goes last.
      uri = first.uri;
      routes = [...routes.slice(1), `<${dialog.remoteTarget}>`];
    }
  }
  const headers: SipHeader[] = [
    ...routes.map((value) => ({ name: 'route', value })),
    { name: 'from', value: formatNameAddr({ uri: dialog.localUri, params: { tag: dialog.localTag } }) },
    { name: 'to', value: formatNameAddr({ uri: dialog.remoteUri, params: dialog.remoteTag ? { tag: dialog.remoteTag } : {} }) },
    { name: 'call-id', value: dialog.callId },
    { name: 'cseq', value: `${seq} ${method}` },
    { name: 'max-forwards', value: '70' },
    ...(options.headers ?? []),
  ];
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  return { dialog: next, request: { kind: 'request', method, uri, headers, body } };
}

/** Methods whose Contact replaces the remote target (RFC 3261 12.2.2, RFC 3311, RFC 6665 4.1.2). */
const TARGET_REFRESH = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

/**
 * A request arrived in the dialog (RFC 3261 12.2.2): a CSeq lower than (or equal to, except
 * ACK/CANCEL) the remote CSeq is out of order and answered 500; otherwise the remote CSeq
 * advances and a target refresh request updates the remote target.
 */
export function onRemoteRequest(
  dialog: DialogState,
  req: SipRequest,
): { ok: true; dialog: DialogState } | { ok: false; status: 500; reason: string } {
  const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
  if (!cseq) return { ok: false, status: 500, reason: 'Server Internal Error - bad CSeq' };
  if (req.method === 'ACK' || req.method === 'CANCEL') return { ok: true, dialog };
  if (dialog.remoteCSeq !== 0 && cseq.seq <= dialog.remoteCSeq) {
    return { ok: false, status: 500, reason: 'Server Internal Error - CSeq out of order' };
  }
  let remoteTarget = dialog.remoteTarget;
  if (TARGET_REFRESH.has(req.method)) {
    const c = getHeader(req, 'contact');
    const na = c ? parseNameAddr(c) : undefined;
    if (na) remoteTarget = na.uri;
  }
  return { ok: true, dialog: { ...dialog, remoteCSeq: cseq.seq, remoteTarget } };
}

/**
 * A 2xx to a target-refreshing request we sent (re-INVITE, UPDATE): its Contact becomes the
 * remote target (RFC 3261 12.2.1.2).
 */
export function onRefreshResponse(dialog: DialogState, res: SipResponse): DialogState {
  if (res.status < 200 || res.status >= 300) return dialog;
  const c = getHeader(res, 'contact');
  const na = c ? parseNameAddr(c) : undefined;
  return na ? { ...dialog, remoteTarget: na.uri } : dialog;
}
