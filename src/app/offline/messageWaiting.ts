/**
 * Text message-waiting, the SIP side: which SUBSCRIBEs are ours (`Event: message-summary` with
 * `Sylk-App: textmail`, or to the Message-Account address; in-dialog refreshes by their
 * Event), whose mailbox they watch (the subscriber's identity: P-Asserted-Identity from a
 * trusted proxy, else From; a SUBSCRIBE naming another user's AoR gets 403), and the effects
 * of the `mwi` actor: answers, NOTIFYs (a NOTIFY answered 481/408... drops the subscription,
 * RFC 6665 4.2.2), and the mailbox watch. `changed(aor)` is the mailbox executor's hook.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../clock.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import { MAILBOX_KIND } from '../../actors/mailboxKind.js';
import type { MailboxStore } from '../../actors/mailboxStore.js';
import { MESSAGE_WAITING_KIND } from '../../actors/messageWaitingKind.js';
import type { SipRequest } from '../../transport/sip/message.js';
import type { IncomingRequest, SipEndpoint, SipTransport } from '../../transport/sip/transport.js';
import { newCallId, newTag } from '../../transport/sip/transaction/branch.js';
import { MESSAGE_PUBLICATION_KIND } from '../../actors/messagePublicationKind.js';
import { messagePublicationEvents, type MessagePublicationEffect } from '../../machines/messagePublication.js';
import { dialogKey, type DialogState } from '../../transport/sip/dialog.js';
import { getHeader } from '../../transport/sip/headers.js';
import { eventOfRequest, onNotifyResponse } from '../../transport/sip/subscription.js';
import { ProtocolError } from '../../errors.js';
import { mailboxEvents } from '../../machines/mailboxTypes.js';
import { messageWaitingEvents as ev, type MessageWaitingEffect } from '../../machines/messageWaiting.js';
import type { OfflineDispatcher } from './executor.js';
import { callerOf, sameAddress } from './invite.js';
import { servedAor } from '../mailbox/request.js';

/** The mailbox's subscriber id of the message-waiting actor (one per user). */
export const MWI_SUBSCRIBER = 'mwi';

export interface MessageWaitingOptions {
  readonly sip: SipTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly domains: readonly string[];
  readonly dispatcher: () => OfflineDispatcher;
  readonly mailboxStore: MailboxStore;
  /** Message-Account: the fetch address (also accepted as the SUBSCRIBE Request-URI). */
  readonly account: string;
  readonly trustAsserted: boolean;
  /** The header that marks a textmail subscription (`Sylk-App: textmail`). */
  readonly appHeader?: string;
  readonly maxSubscriptions?: number;
  readonly minIntervalMs?: number;
  /**
   * The configurable alternative: PUBLISH every user's summary (RFC 3903) to this presence
   * server as well, which then serves the subscribers itself. Off when undefined.
   */
  readonly publish?: { readonly destination: SipEndpoint; readonly expires?: number; readonly retryMs?: number };
}

const isMessageSummary = (req: SipRequest) => {
  const e = eventOfRequest(req);
  return !(e instanceof ProtocolError) && e.package === 'message-summary';
};

export class MessageWaiting {
  private readonly pending = new Map<string, IncomingRequest>();
  private readonly appHeader: string;
  private readonly minIntervalMs: number;
  private readonly recountMs: number;
  /** Mailboxes recounted less than `recountMs` ago; `again`: changed since. */
  private readonly recounts = new Map<string, { again: boolean; readonly timer: TimerHandle }>();
  private stopped = false;

  constructor(private readonly o: MessageWaitingOptions) {
    this.appHeader = (o.appHeader ?? 'sylk-app').toLowerCase();
    this.minIntervalMs = o.minIntervalMs ?? 1000;
    this.recountMs = Math.max(1, Math.floor(this.minIntervalMs / 4));
  }

  /** True for the SUBSCRIBEs (and their refreshes) this notifier serves. */
  accepts(req: IncomingRequest): boolean {
    const r = req.request;
    if (r.method !== 'SUBSCRIBE' || !isMessageSummary(r)) return false;
    if (req.dialogId !== undefined) return true;
    if ((getHeader(r, this.appHeader) ?? '').trim().toLowerCase() === 'textmail') return true;
    return sameAddress(r.uri, this.o.account, this.o.domains);
  }

  handle(req: IncomingRequest): Promise<void> {
    const r = req.request;
    const identity = callerOf(r, this.o.trustAsserted);
    const aor = identity === undefined ? undefined : servedAor(identity.uri, this.o.domains);
    if (aor === undefined) return Promise.resolve(req.respond(403, 'Forbidden - not a local user'));
    if (req.dialogId === undefined) {
      // Subscribing to a user's own AoR (the Sylk way) is allowed only for that user.
      const target = servedAor(r.uri, this.o.domains);
      if (target !== undefined && !sameAddress(r.uri, this.o.account, this.o.domains) && target !== aor) {
        return Promise.resolve(req.respond(403, "Forbidden - another user's mailbox"));
      }
    }
    const ref = randomUUID();
    this.pending.set(ref, req);
    const now = this.o.clock.now();
    const event =
      req.dialogId === undefined
        ? ev.subscribe(now, ref, r, req.localTag, this.o.mailboxStore.summary(aor), {
            aor,
            account: this.o.account,
            maxSubscriptions: this.o.maxSubscriptions ?? 10,
            minIntervalMs: this.minIntervalMs,
          })
        : ev.refresh(now, ref, r, dialogKey(req.dialogId));
    return this.o
      .dispatcher()
      .dispatch(MESSAGE_WAITING_KIND, aor, event, { create: req.dialogId === undefined })
      .then((result) => {
        if (result === 'absent') req.respond(481, 'Subscription Does Not Exist');
        else if (result !== 'ok') req.respond(500, 'Server Internal Error - subscription not stored');
      })
      .finally(() => this.pending.delete(ref));
  }

  /**
   * The mailbox executor's `mailbox.changed` hook: recount after the commit and tell the
   * notifier. A recount reads the whole mailbox (31 ms for 10,000 messages, measured), and a
   * burst of stores or deliveries changes it hundreds of times a second: a mailbox is recounted
   * at once, then not again before a quarter of `minIntervalMs` (the NOTIFY pacing: a paced
   * NOTIFY carries a count at most that old), when a recount follows the changes meanwhile.
   */
  changed(aor: string): void {
    const r = this.recounts.get(aor);
    if (r === undefined) {
      this.recount(aor);
      this.recounts.set(aor, { again: false, timer: this.o.clock.setTimeout(() => this.recountWindowEnds(aor), this.recountMs) });
    } else r.again = true;
  }

  /**
   * A mailbox's recount window ends: recount if it changed meanwhile. No new window: the next
   * change is recounted at once and opens one (at most two recounts per window in a burst).
   */
  private recountWindowEnds(aor: string): void {
    const r = this.recounts.get(aor);
    this.recounts.delete(aor);
    if (r?.again === true && !this.stopped) this.recount(aor);
  }

  /** Ends the pending recounts (the server is stopping). */
  stop(): void {
    this.stopped = true;
    for (const r of this.recounts.values()) this.o.clock.clearTimeout(r.timer);
    this.recounts.clear();
  }

  private recount(aor: string): void {
    const counts = this.o.mailboxStore.summary(aor);
    const now = this.o.clock.now();
    this.o
      .dispatcher()
      .dispatch(MESSAGE_WAITING_KIND, aor, ev.countsChanged(now, counts))
      .catch((err: unknown) => this.o.logger.error({ err, aor }, 'mwi: change not committed'));
    const p = this.o.publish;
    if (p === undefined) return;
    // Used only if this change creates the publication actor.
    const input = { aor, account: this.o.account, expires: p.expires ?? 3600, paceMs: this.minIntervalMs, retryMs: p.retryMs ?? 30_000, callId: newCallId(), fromTag: newTag() };
    this.o
      .dispatcher()
      .dispatch(MESSAGE_PUBLICATION_KIND, aor, messagePublicationEvents.countsChanged(now, counts, input), { create: true })
      .catch((err: unknown) => this.o.logger.error({ err, aor }, 'mwi: publication change not committed'));
  }

  /** One PUBLISH (RFC 3903): initial without, modify/refresh/remove with SIP-If-Match. */
  private async publish(e: MessagePublicationEffect, actor: ActorRef): Promise<void> {
    const p = this.o.publish;
    let status = 503;
    let etag: string | undefined;
    let expires: number | undefined;
    if (p !== undefined) {
      const headers = [
        { name: 'from', value: `<${e.aor}>;tag=${e.fromTag}` },
        { name: 'to', value: `<${e.aor}>` },
        { name: 'call-id', value: e.callId },
        { name: 'cseq', value: `${e.seq} PUBLISH` },
        { name: 'max-forwards', value: '70' },
        { name: 'event', value: 'message-summary' },
        { name: 'expires', value: String(e.expires) },
        ...(e.etag !== null ? [{ name: 'sip-if-match', value: e.etag }] : []),
        ...(e.body !== '' ? [{ name: 'content-type', value: e.contentType }] : []),
      ];
      try {
        const r = await this.o.sip.sendRequest({ method: 'PUBLISH', uri: e.aor, headers, body: e.body }, { destination: p.destination });
        status = r.status;
        etag = getHeader(r, 'sip-etag')?.trim();
        const x = Number(getHeader(r, 'expires'));
        expires = Number.isInteger(x) && x > 0 ? x : undefined;
      } catch (err) {
        actor.logger.warn({ err }, 'mwi: PUBLISH not sent');
      }
    }
    if (status >= 300) actor.logger.info({ status }, 'mwi: PUBLISH refused');
    this.o
      .dispatcher()
      .dispatch(MESSAGE_PUBLICATION_KIND, e.aor, messagePublicationEvents.published(this.o.clock.now(), e.seq, status, etag === '' ? undefined : etag, expires))
      .catch((err: unknown) => actor.logger.error({ err }, 'mwi: PUBLISH result not committed'));
  }

  execute(effect: Effect, actor: ActorRef): void {
    if (effect.type === 'mwipub.publish') return void this.publish(effect as unknown as MessagePublicationEffect, actor);
    const e = effect as unknown as MessageWaitingEffect;
    switch (e.type) {
      case 'mwi.respond': {
        const req = this.pending.get(e.requestRef);
        this.pending.delete(e.requestRef);
        req?.respond(e.answer.status, e.answer.reason, { headers: [...e.answer.headers] });
        return;
      }
      case 'mwi.notify':
        void this.notify(e.aor, e.id, e.request as SipRequest, e.dialog as DialogState, actor);
        return;
      case 'mwi.watch': {
        const now = this.o.clock.now();
        const event = e.on ? mailboxEvents.subscribed(now, MWI_SUBSCRIBER) : mailboxEvents.unsubscribed(now, MWI_SUBSCRIBER);
        // Deferred: the supervisor is still handing out this event's effects.
        queueMicrotask(() => {
          this.o
            .dispatcher()
            .dispatch(MAILBOX_KIND, e.aor, event, { create: e.on })
            .catch((err: unknown) => actor.logger.error({ err }, 'mwi: mailbox watch not committed'));
        });
        return;
      }
      default:
        actor.logger.warn({ effect: effect.type }, 'mwi: unknown effect');
    }
  }

  private async notify(aor: string, id: string, request: SipRequest, dialog: DialogState, actor: ActorRef): Promise<void> {
    let status: number;
    try {
      status = (await this.o.sip.sendRequest(request, { dialog })).status;
    } catch (err) {
      actor.logger.warn({ err }, 'mwi: NOTIFY not sent');
      status = 503;
    }
    if (onNotifyResponse(status) === 'remove') {
      actor.logger.info({ id, status }, 'mwi: subscription dropped after a failed NOTIFY');
      this.o
        .dispatcher()
        .dispatch(MESSAGE_WAITING_KIND, aor, ev.notifyFailed(this.o.clock.now(), id))
        .catch((err: unknown) => actor.logger.error({ err }, 'mwi: drop not committed'));
    }
  }
}
