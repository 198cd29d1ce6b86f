/**
 * Performs `delivery.run`: one MSRP session to the user that comes from the original caller
 * (SIP From = the From the caller used, CPIM From = the caller), carrying that caller's
 * messages written in offline sessions, in order; each is deleted from the mailbox (a
 * DELETE_MESSAGES `delivered` committed by the mailbox actor) only after its MSRP 200; then
 * BYE. The outcome goes back to the delivery actor as RUN_DONE or RUN_FAILED.
 *
 * The offer is `a=setup:actpass` with a passive session: a client answering `active` connects
 * to us (the usual answer); one answering `passive` is connected to.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import { MAILBOX_KIND } from '../../actors/mailboxKind.js';
import type { MailboxStore } from '../../actors/mailboxStore.js';
import { SESSION_DELIVERY_KIND } from '../../actors/sessionDeliveryKind.js';
import { ProtocolError } from '../../errors.js';
import { buildMsrpOffer, parseMsrpOffer } from '../../formats/sdp.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { MsrpSession } from '../../transport/msrp/session.js';
import type { SipRequest, SipResponse } from '../../transport/sip/message.js';
import type { SipTransport } from '../../transport/sip/transport.js';
import type { RegisteredContact } from '../../transport/sip/registrationStore.js';
import { requestToContact } from '../../transport/sip/registrar.js';
import { buildInDialogRequest, createUacDialog, type DialogState } from '../../transport/sip/dialog.js';
import { newCallId, newTag } from '../../transport/sip/transaction/branch.js';
import { mailboxEvents } from '../../machines/mailboxTypes.js';
import type { StoredMessage } from '../../machines/mailboxEffects.js';
import { sessionDeliveryEvents as ev, type SessionDeliveryEffect } from '../../machines/sessionDelivery.js';
import type { OfflineDispatcher } from './executor.js';
import { outgoingBody, whenConnected } from './outgoing.js';

export interface DeliveryRunnerOptions {
  readonly sip: SipTransport;
  readonly msrp: MsrpEndpoint;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly contacts: { contactsOf(aor: string): readonly RegisteredContact[] };
  readonly mailboxStore: MailboxStore;
  readonly dispatcher: () => OfflineDispatcher;
  /** Messages sent per session; the rest go in the next run. Default 100. */
  readonly maxPerRun?: number;
  /** How long the answered client has to connect its MSRP (ms). Default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Most delivery sessions at once in this process; beyond it a run fails 503 and is retried. Default 200. */
  readonly maxRuns?: number;
  /** True while the user fetches: a run then fails 486 and is retried, so nothing goes twice. */
  readonly isFetching?: (aor: string) => boolean;
}

/** Rows scanned per mailbox when looking for one caller's messages (every read is bounded). */
export const MAX_SCAN = 10_000;

/**
 * Unread messages of `aor` due now (not expired, send time reached) that `keep` accepts, in
 * order, at most `limit`, from at most MAX_SCAN rows.
 */
export function dueMessages(store: MailboxStore, aor: string, now: number, limit: number, keep: (m: StoredMessage) => boolean = () => true): StoredMessage[] {
  const out: StoredMessage[] = [];
  for (const { value: m } of store.messages.getRange({ start: [aor, 1], end: [aor, Number.MAX_SAFE_INTEGER], limit: MAX_SCAN })) {
    if (m.read === true || m.expiresAt <= now || (m.sendAt !== undefined && m.sendAt > now) || !keep(m)) continue;
    out.push(m);
    if (out.length >= limit) break;
  }
  return out;
}

/** Session-written messages of `aor` from `caller` (or of every caller when undefined), due now, in order. */
export function sessionMessages(store: MailboxStore, aor: string, now: number, limit: number, caller?: string): StoredMessage[] {
  return dueMessages(store, aor, now, limit, (m) => m.session !== undefined && (caller === undefined || m.session.caller === caller));
}

type Outcome = { ok: true; delivered: number } | { ok: false; status: number; delivered: number };

export class DeliveryRunner {
  /** True while a delivery session runs for `aor` (a fetch then waits). */
  isDelivering(aor: string): boolean {
    for (const key of this.live.keys()) if (key.startsWith(`${aor} `)) return true;
    return false;
  }

  /** Outgoing MSRP sessions in progress, by delivery key (tests look at them; `stop` closes them). */
  readonly live = new Map<string, MsrpSession>();
  private readonly maxPerRun: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly o: DeliveryRunnerOptions) {
    this.maxPerRun = o.maxPerRun ?? 100;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
  }

  execute(effect: Effect, actor: ActorRef): void {
    const e = effect as unknown as SessionDeliveryEffect;
    if (e.type !== 'delivery.run') return void actor.logger.warn({ effect: effect.type }, 'delivery: unknown effect');
    void this.run(e.key, e.aor, e.caller, e.run, actor);
  }

  private back(key: string, event: Parameters<OfflineDispatcher['dispatch']>[2], actor: ActorRef): void {
    this.o
      .dispatcher()
      .dispatch(SESSION_DELIVERY_KIND, key, event)
      .catch((err: unknown) => actor.logger.error({ err, event: event.type }, 'delivery: outcome not committed'));
  }

  private async run(key: string, aor: string, caller: string, run: number, actor: ActorRef): Promise<void> {
    const now = () => this.o.clock.now();
    // A run still going (its stall timer fired while it was slow): never two sessions at once.
    if (this.live.has(key)) return this.back(key, ev.runFailed(now(), run, 409, false, 0), actor);
    if (this.o.isFetching?.(aor) === true) return this.back(key, ev.runFailed(now(), run, 486, false, 0), actor);
    if (this.live.size >= (this.o.maxRuns ?? 200)) return this.back(key, ev.runFailed(now(), run, 503, false, 0), actor);
    const batch = sessionMessages(this.o.mailboxStore, aor, now(), this.maxPerRun + 1, caller);
    const more = batch.length > this.maxPerRun;
    const messages = batch.slice(0, this.maxPerRun);
    if (messages.length === 0) return this.back(key, ev.runDone(now(), run, 0, false), actor);
    const contacts = this.o.contacts.contactsOf(aor);
    if (contacts.length === 0) return this.back(key, ev.runFailed(now(), run, 480, true, 0), actor);
    const session = this.o.msrp.createSession({ setup: 'passive', acceptTypes: ['*'] });
    this.live.set(key, session);
    let outcome: Outcome;
    try {
      outcome = await this.deliver(session, contacts, aor, messages, actor);
    } catch (err) {
      actor.logger.error({ err }, 'delivery: run failed');
      outcome = { ok: false, status: 500, delivered: 0 };
    } finally {
      this.live.delete(key);
      session.close('delivered');
    }
    actor.logger.info({ run, ...outcome }, 'delivery: run ended');
    this.back(key, outcome.ok ? ev.runDone(now(), run, outcome.delivered, more) : ev.runFailed(now(), run, outcome.status, false, outcome.delivered), actor);
  }

  private async deliver(session: MsrpSession, contacts: readonly RegisteredContact[], aor: string, messages: StoredMessage[], actor: ActorRef): Promise<Outcome> {
    const sdp = buildMsrpOffer({
      ...session.sdpLocal,
      acceptTypes: ['message/cpim', 'text/plain'],
      acceptWrappedTypes: ['*'],
      setup: 'actpass',
    });
    const invited = await this.invite(contacts, messages[0].from, aor, sdp);
    if (!invited.ok) return { ok: false, status: invited.status, delivered: 0 };
    const { dialog } = invited;
    let delivered = 0;
    let failure = 0;
    try {
      const answer = parseMsrpOffer(invited.response.body.toString('utf8'));
      if (answer instanceof ProtocolError) return { ok: false, status: 488, delivered: 0 };
      if (session.setRemote({ path: answer.path }) !== undefined) return { ok: false, status: 488, delivered: 0 };
      const connected = answer.setup === 'passive' ? (await session.connect()).status === 200 : await whenConnected(session, this.o.clock, this.connectTimeoutMs);
      if (!connected) return { ok: false, status: 408, delivered: 0 };
      for (const m of messages) {
        const { body, contentType } = outgoingBody(m, aor, answer.acceptTypes);
        const r = await session.send(body, contentType);
        if (r.status !== 200) {
          failure = r.status === 0 ? 503 : r.status;
          break;
        }
        // Deleted only after its 200, by the mailbox (its count and stats stay right).
        const d = await this.o.dispatcher().dispatch(MAILBOX_KIND, aor, mailboxEvents.deleteMessages(this.o.clock.now(), [m.seq], 'delivered'));
        if (d !== 'ok') actor.logger.warn({ seq: m.seq, result: d }, 'delivery: delete not committed');
        delivered++;
      }
    } finally {
      void this.bye(dialog, actor);
    }
    return failure === 0 ? { ok: true, delivered } : { ok: false, status: failure, delivered };
  }

  /** INVITE to each contact in turn until one answers 2xx. */
  private async invite(contacts: readonly RegisteredContact[], from: string, aor: string, sdp: string): Promise<{ ok: true; dialog: DialogState; response: SipResponse } | { ok: false; status: number }> {
    let best = 480;
    for (const c of contacts) {
      const parts = requestToContact(
        c,
        'INVITE',
        [
          { name: 'from', value: `${from};tag=${newTag()}` },
          { name: 'to', value: `<${aor}>` },
          { name: 'call-id', value: newCallId() },
          { name: 'cseq', value: '1 INVITE' },
          { name: 'max-forwards', value: '70' },
          { name: 'contact', value: `<${this.o.sip.contactUri()}>` },
          { name: 'content-type', value: 'application/sdp' },
        ],
        sdp,
      );
      const request: SipRequest = { kind: 'request', method: parts.method, uri: parts.uri, headers: parts.headers, body: Buffer.from(sdp) };
      const response = await this.o.sip.sendRequest(request);
      if (response.status >= 200 && response.status < 300) {
        const dialog = createUacDialog(request, response);
        this.o.sip.sendAck(dialog, response);
        return { ok: true, dialog, response };
      }
      best = Math.min(best, response.status);
    }
    return { ok: false, status: best };
  }

  private async bye(dialog: DialogState, actor: ActorRef): Promise<void> {
    try {
      const { request } = buildInDialogRequest(dialog, 'BYE');
      const r = await this.o.sip.sendRequest(request, { dialog });
      if (r.status >= 300) actor.logger.info({ status: r.status }, 'delivery: BYE answered');
    } catch (err) {
      actor.logger.warn({ err }, 'delivery: BYE not sent');
    }
  }

  /** Closes every outgoing session (server stop). */
  stop(): void {
    for (const s of this.live.values()) s.close('stopping');
  }
}
