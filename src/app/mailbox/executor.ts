/**
 * Performs the mailbox's non-store effects after their commit: answers the pending MESSAGE,
 * reads batches and sweeps from LMDB, sends deliveries and sender notifications through a
 * `SipTransport`, and dispatches each outcome back to the mailbox as an event.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import type { MailboxStore } from '../../actors/mailboxStore.js';
import { MAILBOX_KIND } from '../../actors/mailboxKind.js';
import type { DispatchResult } from '../../actors/supervisor.js';
import type { SipTransport } from '../../transport/sip/transport.js';
import type { RegisteredContact } from '../../transport/sip/registrationStore.js';
import { mailboxEvents as ev, type DeliveryOutcome, type MailboxEvent } from '../../machines/mailboxTypes.js';
import type { MailboxEffect } from '../../machines/mailboxEffects.js';
import { buildDelivery, type DeliveryOptions } from './delivery.js';

/** Where a user can be reached now (the embedded registrar, or contacts learnt by reg event). */
export interface ContactDirectory {
  contactsOf(aor: string): readonly RegisteredContact[];
}

/** The part of the supervisor the mailbox application uses. */
export interface MailboxDispatcher {
  dispatch(kind: string, key: string, event: MailboxEvent, opts?: { create?: boolean }): Promise<DispatchResult>;
}

/** msilo's sender notification (`from_address`, `offline_message`, `content_type_hdr`, `contact_hdr`). */
export interface SenderNotification {
  /** From of the notice, e.g. `sip:offline@parley.example`. */
  readonly from: string;
  /** `$user` is replaced by the recipient's AoR. */
  readonly text?: string;
  readonly contentType?: string;
  /** Optional Contact header value (msilo `contact_hdr`). */
  readonly contact?: string;
}

export const defaultOfflineText = 'User $user is offline: your message will be delivered when they come online.';

export interface MailboxExecutorOptions {
  readonly store: MailboxStore;
  readonly sip: SipTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly contacts: ContactDirectory;
  readonly dispatcher: () => MailboxDispatcher;
  readonly delivery?: DeliveryOptions;
  readonly notify?: SenderNotification;
}

/** Lower is better: any 2xx wins; else the most telling failure (RFC 3261 16.7 spirit). */
function bestStatus(statuses: readonly number[]): number {
  const ok = statuses.find((s) => s >= 200 && s < 300);
  return ok ?? Math.min(...statuses);
}

/**
 * Whoever waits for a store's answer: a SIP MESSAGE transaction, or an MSRP SEND of an offline
 * chat session (src/app/offline), which maps the SIP status to an MSRP one.
 */
export interface StoreResponder {
  respond(status: number, reason?: string): void;
}

export class MailboxExecutor {
  /** Set by the application that NOTIFYs message-waiting subscribers (src/app/offline). */
  onChanged: ((aor: string) => void) | undefined;

  private readonly results = new Map<string, { actor: ActorRef; outcomes: DeliveryOutcome[]; claimed: number[] }>();
  private resultsScheduled = false;

  /** Stores waiting for their mailbox's answer (`requestRef` -> MESSAGE or MSRP SEND). */
  readonly pending = new Map<string, StoreResponder>();

  constructor(private readonly o: MailboxExecutorOptions) {}

  execute(effect: Effect, actor: ActorRef): void {
    const e = effect as unknown as MailboxEffect;
    switch (e.type) {
      case 'mailbox.respond': {
        const req = this.pending.get(e.requestRef);
        this.pending.delete(e.requestRef);
        req?.respond(e.status, e.reason);
        return;
      }
      case 'mailbox.loadBatch': {
        const { entries, exhausted } = this.o.store.batch(e.aor, e.after, e.limit);
        this.back(e.aor, ev.batchLoaded(this.o.clock.now(), e.after, entries, exhausted), actor);
        return;
      }
      case 'mailbox.sweep': {
        const now = this.o.clock.now();
        const r = this.o.store.sweep(e.aor, now, e.limit);
        this.back(e.aor, ev.swept(now, r.expired, r.more, r.nextExpiresAt, r.nextSendAt), actor);
        return;
      }
      case 'mailbox.deliver':
        void this.deliver(e.aor, e.seq, actor);
        return;
      case 'mailbox.notifySender':
        void this.notifySender(e.aor, e.sender, actor);
        return;
      case 'mailbox.changed':
        this.onChanged?.(e.aor);
        return;
      default:
        actor.logger.warn({ effect: effect.type }, 'mailbox: unknown effect');
    }
  }

  private async deliver(aor: string, seq: number, actor: ActorRef): Promise<void> {
    // A fetch sending it to the user now (src/app/offline/fetch.ts): gone for this path; it is
    // marked read, or stays for the next pass if the fetch fails.
    if (!this.o.store.sending.claim(aor, seq)) return this.result(aor, seq, 0, actor, false);
    const m = this.o.store.get(aor, seq);
    let status = 0;
    // Read = fetched by the user meanwhile: gone for this path too.
    if (m !== undefined && m.read !== true) {
      const contacts = this.o.contacts.contactsOf(aor);
      if (contacts.length === 0) status = 480;
      else {
        // Every current contact gets it, as a forking proxy would; one 2xx is a delivery.
        const answers = await Promise.all(
          contacts.map((c) =>
            this.o.sip.sendRequest(buildDelivery(m, c, this.o.delivery)).then(
              (r) => r.status,
              (err: unknown) => {
                actor.logger.warn({ err, seq }, 'mailbox: delivery not sent');
                return 503;
              },
            ),
          ),
        );
        status = bestStatus(answers);
      }
    }
    this.result(aor, seq, status, actor, true);
  }

  private async notifySender(aor: string, sender: string, actor: ActorRef): Promise<void> {
    const n = this.o.notify;
    if (n === undefined) return;
    const to = sender.replace(/;tag=[^;>]*/i, '');
    const uri = /<([^>]+)>/.exec(to)?.[1] ?? to;
    const headers = [
      { name: 'from', value: `<${n.from}>` },
      { name: 'to', value: to },
      { name: 'content-type', value: n.contentType ?? 'text/plain' },
      ...(n.contact ? [{ name: 'contact', value: n.contact }] : []),
    ];
    const body = (n.text ?? defaultOfflineText).replaceAll('$user', aor);
    try {
      const r = await this.o.sip.sendRequest({ method: 'MESSAGE', uri, headers, body });
      if (r.status >= 300) actor.logger.info({ status: r.status, to: uri }, 'mailbox: sender notification refused');
    } catch (err) {
      actor.logger.warn({ err, to: uri }, 'mailbox: sender notification not sent');
    }
  }

  /**
   * Delivery answers go back in batches: those that arrived in one turn of the event loop for
   * one mailbox become one DELIVERY_RESULTS event (one transition and one commit for all).
   * The messages this path claimed are released once that commit (a delete on a 2xx) is in.
   */
  private result(aor: string, seq: number, status: number, actor: ActorRef, claimed: boolean): void {
    let batch = this.results.get(aor);
    if (batch === undefined) this.results.set(aor, (batch = { actor, outcomes: [], claimed: [] }));
    batch.outcomes.push({ seq, status });
    if (claimed) batch.claimed.push(seq);
    if (this.resultsScheduled) return;
    this.resultsScheduled = true;
    setImmediate(() => {
      this.resultsScheduled = false;
      const now = this.o.clock.now();
      for (const [mailbox, b] of this.results) {
        void this.dispatchBack(mailbox, ev.deliveryResults(now, b.outcomes), b.actor).then(() => {
          for (const s of b.claimed) this.o.store.sending.release(mailbox, s);
        });
      }
      this.results.clear();
    });
  }

  /** Outcomes go back as events; a mailbox gone meanwhile (purged, stopped) is 'absent'. */
  private back(aor: string, event: MailboxEvent, actor: ActorRef): void {
    // Deferred: the supervisor is still handing out this event's effects.
    queueMicrotask(() => this.dispatchBack(aor, event, actor));
  }

  /** Settles (never rejects) once the event is committed, or failed. */
  private dispatchBack(aor: string, event: MailboxEvent, actor: ActorRef): Promise<unknown> {
    const failed = (err: unknown) => actor.logger.error({ err, event: event.type }, 'mailbox: outcome not committed');
    try {
      return this.o.dispatcher().dispatch(MAILBOX_KIND, aor, event).catch(failed);
    } catch (err) {
      failed(err); // refused synchronously (e.g. stopping): the other mailboxes' outcomes still go
      return Promise.resolve();
    }
  }
}
