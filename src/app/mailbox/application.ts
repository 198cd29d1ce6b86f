/**
 * The offline-messaging application (the MSILO model): a MESSAGE for a served user who has no
 * registered contact, or whose contacts all failed with an "unreachable" answer, is stored in
 * the user's mailbox actor and answered 202 Accepted only after the LMDB commit (RFC 3428: 202
 * = stored for later); registration events drive delivery. Shaped as the server's
 * `Application` (src/server.ts) without importing it.
 *
 * Replies: 202 stored (or a duplicate of a stored one); 200 delivered at once; 486 "Mailbox
 * Full" over max_messages; 413 body too large; 400 malformed; 404 not a served user; 500 when
 * the commit failed (nothing was stored).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import type { ActorKind } from '../../actors/kind.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import type { Store, Write } from '../../actors/store.js';
import { MailboxStore } from '../../actors/mailboxStore.js';
import { MAILBOX_KIND, mailboxKind } from '../../actors/mailboxKind.js';
import type { IncomingRequest, SipTransport } from '../../transport/sip/transport.js';
import type { RegistrationEvent } from '../../transport/sip/registrar.js';
import { parseUri } from '../../transport/sip/uri.js';
import { getHeader } from '../../transport/sip/headers.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import { MAILBOX_EFFECT_TYPES } from '../../machines/mailboxEffects.js';
import { mailboxEvents as ev, type MailboxConfig } from '../../machines/mailboxTypes.js';
import { buildDelivery, type DeliveryOptions } from './delivery.js';
import { MailboxExecutor, type ContactDirectory, type MailboxDispatcher, type SenderNotification } from './executor.js';
import { defaultMessageLimits, parseMessageRequest, type MessageLimits } from './request.js';

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
}

/** Final answers from a contact after which the message is stored (issue 6: the UA is unreachable or cannot take MESSAGE). */
const STORE_AFTER = new Set([404, 408, 410, 415, 480, 501, 503]);

export interface MailboxApplication {
  readonly name: 'mailbox';
  readonly kinds: readonly ActorKind[];
  readonly effectTypes: readonly string[];
  readonly mailboxStore: MailboxStore;
  readonly executor: MailboxExecutor;
  accepts(request: IncomingRequest): boolean;
  handle(request: IncomingRequest): void;
  execute(effect: Effect, actor: ActorRef): void;
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
    contacts: o.contacts,
    dispatcher: o.dispatcher,
    ...(o.delivery ? { delivery: o.delivery } : {}),
    ...(o.notify ? { notify: o.notify } : {}),
  });
  const config: Partial<MailboxConfig> = { ...o.config, notifySender: o.notify !== undefined && (o.config?.notifySender ?? true) };
  const domains = o.domains.map((d) => d.toLowerCase());
  const tryFirst = o.tryContactsFirst ?? true;
  let stopped = false;

  const unsubscribe = o.registrationEvents?.on((e) => {
    const event = e.type === 'online' ? ev.online(o.clock.now()) : ev.offline(o.clock.now());
    // No create: a user without a mailbox has nothing waiting ('absent').
    o.dispatcher()
      .dispatch(MAILBOX_KIND, e.aor, event)
      .catch((err: unknown) => log.error({ err, aor: e.aor }, 'mailbox: registration event not committed'));
  });

  async function store(req: IncomingRequest, parsed: ReturnType<typeof parseMessageRequest>, online: boolean): Promise<void> {
    const ref = randomUUID();
    executor.pending.set(ref, req);
    try {
      const r = await o.dispatcher().dispatch(MAILBOX_KIND, parsed.aor, ev.store(o.clock.now(), parsed.message, parsed.dedupKeys, online, ref), { create: true });
      if (r !== 'ok') req.respond(500, 'Server Internal Error - not stored');
    } catch (err) {
      log.error({ err, aor: parsed.aor }, 'mailbox: MESSAGE not stored');
      req.respond(500, 'Server Internal Error - not stored');
    } finally {
      executor.pending.delete(ref); // answered by `mailbox.respond` after the commit, or above
    }
  }

  async function handleMessage(req: IncomingRequest): Promise<void> {
    const parsed = parseMessageRequest(req.request, domains, o.clock.now(), o.limits ?? defaultMessageLimits);
    // A re-sent MESSAGE already committed: same answer, nothing stored.
    if (mailboxStore.isDuplicate(parsed.aor, parsed.dedupKeys)) return req.respond(202, 'Accepted');
    const contacts = o.contacts.contactsOf(parsed.aor);
    const reminder = parsed.message.sendAt !== undefined && parsed.message.sendAt > o.clock.now();
    if (tryFirst && contacts.length > 0 && !reminder) {
      const stored = { ...parsed.message, seq: 0, receivedAt: o.clock.now(), expiresAt: 0, dedupKeys: [] };
      const answers = await Promise.all(contacts.map((c) => o.sip.sendRequest(buildDelivery(stored, c, { ...o.delivery, addDate: false })).then((r) => r.status, () => 503)));
      const ok = answers.find((s) => s >= 200 && s < 300);
      if (ok !== undefined) return req.respond(ok);
      if (!answers.every((s) => STORE_AFTER.has(s))) return req.respond(Math.min(...answers));
    }
    await store(req, parsed, contacts.length > 0);
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
      const served = (uri: string | undefined) => {
        const u = uri === undefined ? undefined : parseUri(uri);
        return u !== undefined && u.scheme !== 'tel' && domains.includes(u.host.toLowerCase());
      };
      const to = getHeader(req.request, 'to');
      return served(req.request.uri) || served(to === undefined ? undefined : parseNameAddr(to)?.uri);
    },
    handle(req) {
      if (stopped) return req.respond(503, 'Service Unavailable - stopping');
      handleMessage(req).catch((err: unknown) => {
        if (err instanceof ProtocolError) return req.respond(err.status, err.message);
        log.error({ err }, 'mailbox: MESSAGE handling failed');
        req.respond(500);
      });
    },
    execute: (effect, actor) => executor.execute(effect, actor),
    storeWrites: (effect, actor) => mailboxStore.storeWrites(effect, actor),
    async stop() {
      stopped = true;
      unsubscribe?.();
    },
  };
}
