/**
 * Fetch (text message-waiting, PROTOCOLS.md): the user starts an MSRP chat session to the
 * Message-Account address; the mailbox is the caller's own, chosen by identity
 * (P-Asserted-Identity from a trusted proxy, else From; a caller who is not a local user gets
 * 403, so nobody reads another user's mailbox). Parley answers, sends every unread stored
 * message in order (CPIM From = its original sender, DateTime = when it was stored), marks each
 * read in the mailbox after its MSRP 200 (old from then on: the message-waiting NOTIFY that
 * follows says `Messages-Waiting: no`), and ends the session with BYE.
 *
 * Not an actor: nothing of a fetch needs to outlive the process except what it changes in the
 * mailbox, which the mailbox actor commits (MARK_READ). A fetch cut by a restart leaves the
 * unsent messages new; the user fetches again.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { MAILBOX_KIND } from '../../actors/mailboxKind.js';
import type { MailboxStore } from '../../actors/mailboxStore.js';
import { ProtocolError } from '../../errors.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { MsrpSession } from '../../transport/msrp/session.js';
import type { IncomingRequest, SipTransport } from '../../transport/sip/transport.js';
import { buildInDialogRequest, createUasDialog, type DialogState } from '../../transport/sip/dialog.js';
import { mailboxEvents } from '../../machines/mailboxTypes.js';
import type { OfflineDispatcher } from './executor.js';
import { answerOffer } from './answer.js';
import { callerOf, msrpOfferOf } from './invite.js';
import { servedAor } from '../mailbox/request.js';
import { outgoingBody, whenConnected } from './outgoing.js';
import { dueMessages } from './deliveryRunner.js';

export interface FetchOptions {
  readonly sip: SipTransport;
  readonly msrp: MsrpEndpoint;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly domains: readonly string[];
  readonly dispatcher: () => OfflineDispatcher;
  readonly mailboxStore: MailboxStore;
  readonly trustAsserted: boolean;
  /** Most messages sent in one fetch (the rest wait for the next). Default 500. */
  readonly maxMessages?: number;
  /** Most fetch sessions at once. Default 100. */
  readonly maxSessions?: number;
  /** How long the user's client has to connect its MSRP (ms). Default 10 s. */
  readonly connectTimeoutMs?: number;
  readonly maxBodyBytes: number;
  /** True while a delivery session runs for the user: a fetch then waits (486), so nothing goes twice. */
  readonly isDelivering?: (aor: string) => boolean;
}

interface FetchSession {
  readonly aor: string;
  readonly msrp: MsrpSession;
  readonly acceptTypes: readonly string[];
  dialog: DialogState;
  ended: boolean;
}

export class FetchSessions {
  /** True while a fetch runs for `aor` (the delivery runner then waits). */
  isFetching(aor: string): boolean {
    return this.busy.has(aor);
  }

  /** Live fetches by `<Call-ID>;<local tag>`. */
  readonly live = new Map<string, FetchSession>();
  /** Users with a fetch running: one at a time per mailbox, so nothing is sent twice. */
  private readonly busy = new Set<string>();

  constructor(private readonly o: FetchOptions) {}

  static keyOf(callId: string, localTag: string): string {
    return `fetch;${callId};${localTag}`;
  }

  /** Answers the INVITE to the Message-Account address. Throws ProtocolError for a refusal. */
  invite(req: IncomingRequest): void {
    const r = req.request;
    const identity = callerOf(r, this.o.trustAsserted);
    const aor = identity === undefined ? undefined : servedAor(identity.uri, this.o.domains);
    if (aor === undefined) throw new ProtocolError('FETCH_NOT_LOCAL', 403, 'Forbidden - only local users have a mailbox');
    if (this.live.size >= (this.o.maxSessions ?? 100)) throw new ProtocolError('FETCH_BUSY', 486, 'Busy Here - too many fetches');
    if (this.busy.has(aor)) throw new ProtocolError('FETCH_RUNNING', 486, 'Busy Here - a fetch is running for this mailbox');
    if (this.o.isDelivering?.(aor) === true) throw new ProtocolError('FETCH_DELIVERING', 486, 'Busy Here - messages are being delivered');
    const { offer, types } = msrpOfferOf(r, 'FETCH_NO_SDP');
    const dialog = createUasDialog(r, req.localTag);
    const { session, sdp } = answerOffer(this.o.msrp, offer, types, this.o.maxBodyBytes);
    const key = FetchSessions.keyOf(dialog.callId, req.localTag);
    const f: FetchSession = { aor, msrp: session, acceptTypes: types.acceptTypes, dialog, ended: false };
    this.live.set(key, f);
    this.busy.add(aor);
    // The user's MSRP connection lost: hang up (after our own close or the user's BYE, a no-op).
    session.once('ended', () => this.finish(key, f, true));
    req.respond(200, 'OK', { headers: [{ name: 'content-type', value: 'application/sdp' }], body: sdp });
    this.o.logger.info({ aor, key }, 'fetch: session answered');
    this.run(key, f).catch((err: unknown) => {
      this.o.logger.error({ err, aor }, 'fetch: failed');
      this.finish(key, f, true);
    });
  }

  /** ACK and BYE of a fetch. */
  async inDialog(req: IncomingRequest, key: string): Promise<void> {
    const f = this.live.get(key);
    if (f === undefined) return req.respond(481, 'Call/Transaction Does Not Exist');
    const m = req.request.method;
    if (m === 'ACK') {
      if (f.msrp.setup === 'active' && f.msrp.connection === undefined) await f.msrp.connect();
      return;
    }
    if (m === 'BYE') {
      req.respond(200);
      return this.finish(key, f, false);
    }
    if (m === 'INVITE') return req.respond(488, 'Not Acceptable Here - fetch session');
    req.respond(405, 'Method Not Allowed', { headers: [{ name: 'allow', value: 'INVITE, ACK, BYE' }] });
  }

  private async run(key: string, f: FetchSession): Promise<void> {
    if (!(await whenConnected(f.msrp, this.o.clock, this.o.connectTimeoutMs ?? 10_000))) return this.finish(key, f, true);
    const store = this.o.mailboxStore;
    const messages = dueMessages(store, f.aor, this.o.clock.now(), this.o.maxMessages ?? 500);
    let sent = 0;
    let tooLarge = 0;
    for (const listed of messages) {
      if (f.ended) break;
      // A MESSAGE delivery of it in flight: it goes that way (deleted on its 2xx, else it stays).
      if (!store.sending.claim(f.aor, listed.seq)) continue;
      try {
        // Read again under the claim: a MESSAGE delivery may have deleted it since the list.
        const m = store.get(f.aor, listed.seq);
        if (m === undefined || m.read === true) continue;
        const { body, contentType } = outgoingBody(m, f.aor, f.acceptTypes);
        // RFC 4975 8.6: not over the client's a=max-size; the message stays stored and new.
        if (f.msrp.remoteMaxSize !== undefined && body.length > f.msrp.remoteMaxSize) {
          tooLarge++;
          continue;
        }
        const r = await f.msrp.send(body, contentType);
        if (r.status !== 200) break;
        // Read (old) only after its 200, committed by the mailbox actor.
        await this.o.dispatcher().dispatch(MAILBOX_KIND, f.aor, mailboxEvents.markRead(this.o.clock.now(), [m.seq]));
        sent++;
      } finally {
        store.sending.release(f.aor, listed.seq);
      }
    }
    this.o.logger.info({ aor: f.aor, sent, of: messages.length, ...(tooLarge > 0 ? { overMaxSize: tooLarge } : {}) }, 'fetch: messages sent');
    this.finish(key, f, true);
  }

  /** Ends a fetch once: BYE when we end it (not after the user's BYE), MSRP closed. */
  private finish(key: string, f: FetchSession, bye: boolean): void {
    if (f.ended) return;
    f.ended = true;
    this.live.delete(key);
    this.busy.delete(f.aor);
    f.msrp.close('fetched');
    if (!bye) return;
    const { request } = buildInDialogRequest(f.dialog, 'BYE');
    this.o.sip.sendRequest(request, { dialog: f.dialog }).catch((err: unknown) => this.o.logger.warn({ err }, 'fetch: BYE not sent'));
  }

  stop(): void {
    for (const [key, f] of this.live) this.finish(key, f, false);
  }
}
