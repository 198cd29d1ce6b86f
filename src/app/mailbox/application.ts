/**
 * The offline-messaging application (the MSILO model): a MESSAGE for a served user who has no
 * registered contact, or whose contacts all failed with an "unreachable" answer, is stored in
 * the user's mailbox actor and answered 202 Accepted only after the LMDB commit (RFC 3428: 202
 * = stored for later); registration events drive delivery. Shaped as the server's
 * `Application` (src/server.ts).
 *
 * Replies: 202 stored (or a duplicate of a stored one); 200 delivered at once; 486 "Mailbox
 * Full" over max_messages; 413 body too large; 400 malformed; 404 not a served user; 500 when
 * the commit failed (nothing was stored).
 */
import type { Application } from '../../server.js';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import type { Store, Write } from '../../actors/store.js';
import { MailboxStore } from '../../actors/mailboxStore.js';
import { MAILBOX_KIND, mailboxKind } from '../../actors/mailboxKind.js';
import type { IncomingRequest, SipTransport } from '../../transport/sip/transport.js';
import type { RegistrationEvent } from '../../transport/sip/registrar.js';
import { getHeader } from '../../transport/sip/headers.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import { MAILBOX_EFFECT_TYPES } from '../../machines/mailboxEffects.js';
import { mailboxEvents as ev, type MailboxConfig, type StoreItem } from '../../machines/mailboxTypes.js';
import { buildDelivery, type DeliveryOptions } from './delivery.js';
import { MailboxExecutor, type ContactDirectory, type MailboxDispatcher, type SenderNotification, type StoreResponder } from './executor.js';
import { defaultMessageLimits, parseMessageRequest, parseUriOnce, type MessageLimits } from './request.js';

export interface MailboxAppOptions {
  readonly store: Store;
  readonly sip: SipTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Domains whose users have mailboxes. */
  readonly domains: readonly string[];
  readonly contacts: ContactDirectory;
  /** The registrar's (and reg-event tracker's) online/offline events. */
  readonly registrationEvents?: { on(listener: (e: RegistrationEvent) => void): () => void };
  /** The supervisor, once it exists (it is built after the applications). */
  readonly dispatcher: () => MailboxDispatcher;
  readonly config?: Partial<MailboxConfig>;
  readonly delivery?: DeliveryOptions;
  /** Sender notification; off when undefined (msilo's default). */
  readonly notify?: SenderNotification;
  readonly limits?: MessageLimits;
  /**
   * Try the user's registered contacts before storing (default true). False stores every
   * MESSAGE (Parley reached from the proxy's failure route only).
   */
  readonly tryContactsFirst?: boolean;
  /**
   * Answer a stored MESSAGE only once its commit is flushed to disk (default true): a committed
   * LMDB transaction survives a kill of the process, a flushed one a power loss too (msilo's
   * SQLite answers after an fsync'ed INSERT). Flushes overlap later commits, so this costs
   * latency, not throughput.
   */
  readonly ackAfterFlush?: boolean;
}

/** Most MESSAGEs in one STORE_MESSAGES event (a longer burst is split). */
const MAX_STORE_BATCH = 256;

/** Final answers from a contact after which the message is stored (issue 6: the UA is unreachable or cannot take MESSAGE). */
const STORE_AFTER = new Set([404, 408, 410, 415, 480, 501, 503]);

export interface MailboxApplication extends Application {
  readonly name: 'mailbox';
  readonly mailboxStore: MailboxStore;
  readonly executor: MailboxExecutor;
  storeWrites(effect: Effect, actor: ActorRef): readonly Write[];
  stop(): Promise<void>;
}

export function createMailboxApplication(o: MailboxAppOptions): MailboxApplication {
  const mailboxStore = new MailboxStore(o.store);
  const log = o.logger.child({ component: 'mailbox' });
  const executor = new MailboxExecutor({
    store: mailboxStore,
    sip: o.sip,
    clock: o.clock,
    logger: log,
    // The application's per-turn view, forgotten on every registration change.
    contacts: { contactsOf },
    dispatcher: o.dispatcher,
    ...(o.delivery ? { delivery: o.delivery } : {}),
    ...(o.notify ? { notify: o.notify } : {}),
  });
  const config: Partial<MailboxConfig> = { ...o.config, notifySender: o.notify !== undefined && (o.config?.notifySender ?? true) };
  const domains = o.domains.map((d) => d.toLowerCase());
  const tryFirst = o.tryContactsFirst ?? true;
  const ackAfterFlush = o.ackAfterFlush ?? true;
  let nextRef = 0;
  let stopped = false;

  /**
   * Contacts read once per AoR per turn of the event loop (a burst of MESSAGEs to an offline
   * user reads the registrations once), forgotten at the end of the turn and on any
   * registration event, so a REGISTER handled meanwhile is seen at once. Without registration
   * events nothing would say so: then every MESSAGE reads them.
   */
  const contactCache = new Map<string, ReturnType<ContactDirectory['contactsOf']>>();
  let contactCacheClear = false;
  function contactsOf(aor: string): ReturnType<ContactDirectory['contactsOf']> {
    if (o.registrationEvents === undefined) return o.contacts.contactsOf(aor);
    let c = contactCache.get(aor);
    if (c === undefined) {
      c = o.contacts.contactsOf(aor);
      contactCache.set(aor, c);
      if (!contactCacheClear) {
        contactCacheClear = true;
        setImmediate(forgetContacts);
      }
    }
    return c;
  }
  function forgetContacts(): void {
    contactCacheClear = false;
    contactCache.clear();
  }

  const unsubscribe = o.registrationEvents?.on((e) => {
    contactCache.clear();
    const event = e.type === 'online' ? ev.online(o.clock.now()) : ev.offline(o.clock.now());
    // No create: a user without a mailbox has nothing waiting ('absent').
    o.dispatcher()
      .dispatch(MAILBOX_KIND, e.aor, event)
      .catch((err: unknown) => log.error({ err, aor: e.aor }, 'mailbox: registration event not committed'));
  });

  /**
   * One wait for the flush per run of answers: the answers of a batch are handed out together,
   * right after its commit, and a flush awaited from then on covers that commit. The answers of
   * a run wait in one list on that one flush (no promise reaction per MESSAGE).
   */
  type Answer = { req: IncomingRequest; status: number; reason: string | undefined };
  let waiting: Answer[] | undefined;
  function answerWhenFlushed(a: Answer): void {
    if (waiting === undefined) {
      const run: Answer[] = (waiting = []);
      queueMicrotask(() => (waiting = undefined));
      o.store.synced().then(
        () => {
          for (const x of run) {
            try {
              x.req.respond(x.status, x.reason);
            } catch (err) {
              log.error({ err }, 'mailbox: answer not sent'); // the others still go out
            }
          }
        },
        (err: unknown) => {
          log.error({ err, count: run.length }, 'mailbox: flush failed, MESSAGEs not confirmed');
          for (const x of run) x.req.respond(500, 'Server Internal Error - not stored');
        },
      );
    }
    waiting.push(a);
  }

  /** The MESSAGE's answer, given once what was committed before it is on disk (a class: no closure per MESSAGE). */
  class DurableAnswer implements StoreResponder {
    constructor(private readonly req: IncomingRequest) {}
    respond(status: number, reason?: string): void {
      answerWhenFlushed({ req: this.req, status, reason });
    }
  }

  /**
   * Stores go out in batches: the MESSAGEs for one mailbox that arrived in one turn of the event
   * loop (a burst) become one STORE_MESSAGES event, one transition and one snapshot write
   * instead of one each; answers are unchanged (each MESSAGE gets its own after the commit).
   */
  const queued = new Map<string, Array<{ item: StoreItem; req: IncomingRequest }>>();
  let flushScheduled = false;

  function store(req: IncomingRequest, parsed: ReturnType<typeof parseMessageRequest>, online: boolean): void {
    // Unique among the pending stores of this process (a counter: no random bytes per MESSAGE).
    const ref = `s${++nextRef}`;
    executor.pending.set(ref, ackAfterFlush ? new DurableAnswer(req) : req);
    let q = queued.get(parsed.aor);
    if (q === undefined) queued.set(parsed.aor, (q = []));
    q.push({ item: { requestRef: ref, online, message: parsed.message, dedupKeys: parsed.dedupKeys }, req });
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushStores);
    }
  }

  function flushStores(): void {
    flushScheduled = false;
    const now = o.clock.now();
    const bursts = [...queued];
    queued.clear();
    for (const [aor, all] of bursts) {
      for (let i = 0; i < all.length; i += MAX_STORE_BATCH) {
        const batch = all.slice(i, i + MAX_STORE_BATCH);
        const notStored = () => {
          for (const { item, req } of batch) {
            // Still pending: its mailbox never answered it.
            if (executor.pending.delete(item.requestRef as string)) req.respond(500, 'Server Internal Error - not stored');
          }
        };
        const failed = (err: unknown) => {
          log.error({ err, aor }, 'mailbox: MESSAGEs not stored');
          notStored();
        };
        try {
          o.dispatcher()
            .dispatch(MAILBOX_KIND, aor, ev.storeMany(now, batch.map((b) => b.item)), { create: true })
            .then((r) => r !== 'ok' && notStored(), failed);
        } catch (err) {
          failed(err); // refused synchronously: the other mailboxes still go out
        }
      }
    }
  }

  function handleFailed(req: IncomingRequest, err: unknown): void {
    if (err instanceof ProtocolError) return req.respond(err.status, err.message);
    log.error({ err }, 'mailbox: MESSAGE handling failed');
    req.respond(500);
  }

  /** Synchronous up to the store (no promise per stored MESSAGE); throws what `handle` answers. */
  function handleMessage(req: IncomingRequest): void {
    const parsed = parseMessageRequest(req.request, domains, o.clock.now(), o.limits ?? defaultMessageLimits, req.parsed);
    // A re-sent MESSAGE already committed: same answer, nothing stored.
    if (mailboxStore.isDuplicate(parsed.aor, parsed.dedupKeys)) return req.respond(202, 'Accepted');
    const contacts = contactsOf(parsed.aor);
    const reminder = parsed.message.sendAt !== undefined && parsed.message.sendAt > o.clock.now();
    if (tryFirst && contacts.length > 0 && !reminder) {
      tryContacts(req, parsed, contacts).catch((err: unknown) => handleFailed(req, err));
      return;
    }
    store(req, parsed, contacts.length > 0);
  }

  /** The user has contacts: deliver at once; store only after "unreachable" answers from all. */
  async function tryContacts(req: IncomingRequest, parsed: ReturnType<typeof parseMessageRequest>, contacts: ReturnType<ContactDirectory['contactsOf']>): Promise<void> {
    const stored = { ...parsed.message, seq: 0, receivedAt: o.clock.now(), expiresAt: 0, dedupKeys: [] };
    const answers = await Promise.all(contacts.map((c) => o.sip.sendRequest(buildDelivery(stored, c, { ...o.delivery, addDate: false })).then((r) => r.status, () => 503)));
    const ok = answers.find((s) => s >= 200 && s < 300);
    if (ok !== undefined) return req.respond(ok);
    if (!answers.every((s) => STORE_AFTER.has(s))) return req.respond(Math.min(...answers));
    store(req, parsed, true);
  }

  /** Whether `uri` (a Request-URI or To URI) is of a served domain. */
  function servedUri(uri: string | undefined): boolean {
    const u = uri === undefined ? undefined : parseUriOnce(uri);
    return u !== undefined && u.scheme !== 'tel' && domains.includes(u.host.toLowerCase());
  }

  return {
    name: 'mailbox',
    kinds: [mailboxKind(config)],
    effectTypes: MAILBOX_EFFECT_TYPES,
    mailboxStore,
    executor,
    accepts(req) {
      if (req.request.method !== 'MESSAGE' || req.dialogId !== undefined) return false;
      // The Request-URI, or To when a proxy rewrote the Request-URI to a contact (as msilo).
      if (servedUri(req.request.uri)) return true;
      const to = getHeader(req.request, 'to');
      return servedUri(to === undefined ? undefined : parseNameAddr(to)?.uri);
    },
    handle(req) {
      if (stopped) return req.respond(503, 'Service Unavailable - stopping');
      try {
        handleMessage(req);
      } catch (err) {
        handleFailed(req, err);
      }
    },
    execute: (effect, actor) => executor.execute(effect, actor),
    storeWrites: (effect, actor) => mailboxStore.storeWrites(effect, actor),
    async stop() {
      stopped = true;
      unsubscribe?.();
    },
  };
}
