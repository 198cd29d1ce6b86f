/**
 * Performs an offline session's effects after its commit, over the live MSRP sessions and the
 * pending SIP and MSRP transactions this process holds: answers the INVITE with the prepared
 * SDP, sends the greeting, hands messages to the callee's mailbox (the MSRP 200 goes out when
 * the mailbox's own commit answers), answers BYE, sends BYE and closes MSRP sessions.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import type { DispatchResult } from '../../actors/supervisor.js';
import { MAILBOX_KIND } from '../../actors/mailboxKind.js';
import type { EventObject } from 'xstate';
import { buildCpim, serializeCpim, CPIM_CONTENT_TYPE } from '../../formats/cpim.js';
import { acceptTypesTake } from '../../formats/sdp.js';
import type { MsrpSession, IncomingMessage as MsrpIncoming } from '../../transport/msrp/session.js';
import type { IncomingRequest, SipTransport } from '../../transport/sip/transport.js';
import { buildInDialogRequest, type DialogState } from '../../transport/sip/dialog.js';
import { offlineSessionEvents, type OfflineSessionEffect } from '../../machines/offlineSessionEffects.js';
import { OFFLINE_SESSION_KIND } from '../../actors/offlineSessionKind.js';
import { mailboxEvents } from '../../machines/mailboxTypes.js';
import type { StoreResponder } from '../mailbox/executor.js';

/** The part of the supervisor the offline application uses. */
export interface OfflineDispatcher {
  dispatch(kind: string, key: string, event: EventObject, opts?: { create?: boolean }): Promise<DispatchResult>;
  peek(kind: string, key: string): unknown;
}

/** What this process holds for one live offline session. */
export interface LiveSession {
  readonly msrp: MsrpSession;
  /** The SDP answer, sent by `offline.answer`. */
  readonly sdp: string;
  /** Negotiated accept-types of the caller (to choose the greeting's type). */
  readonly acceptTypes: readonly string[];
  readonly callee: string;
  readonly caller: string;
}

export interface OfflineExecutorOptions {
  readonly sip: SipTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly dispatcher: () => OfflineDispatcher;
  /** The mailbox executor's pending answers (an MSRP SEND waits there like a MESSAGE). */
  readonly mailboxPending: Map<string, StoreResponder>;
  /** A session that stored messages ended (the application starts deliveries if the user is reachable). */
  readonly onEnded?: (callee: string) => void;
}

/** SIP status of a mailbox store -> MSRP answer (RFC 4975 has no 5xx: refusals are 403). */
export function msrpAnswerFor(status: number, reason: string | undefined, m: Pick<MsrpIncoming, 'accept' | 'respond'>): void {
  if (status >= 200 && status < 300) m.accept();
  else m.respond(403, reason ?? 'Not stored');
}

export class OfflineExecutor {
  readonly live = new Map<string, LiveSession>();
  /** INVITE and BYE transactions waiting for their session's answer. */
  readonly pendingSip = new Map<string, IncomingRequest>();
  /** MSRP SENDs waiting for their session's decision. */
  readonly pendingMsrp = new Map<string, MsrpIncoming>();

  constructor(private readonly o: OfflineExecutorOptions) {}

  execute(effect: Effect, actor: ActorRef): void {
    const e = effect as unknown as OfflineSessionEffect;
    switch (e.type) {
      case 'offline.answer': {
        const req = this.pendingSip.get(e.requestRef);
        this.pendingSip.delete(e.requestRef);
        const s = this.live.get(e.key);
        if (req === undefined) return;
        if (req.cancelled) {
          // CANCEL won the race with our commit (the transport sent 487): end the session quietly.
          queueMicrotask(() => {
            this.o
              .dispatcher()
              .dispatch(OFFLINE_SESSION_KIND, e.key, offlineSessionEvents.cancelled(this.o.clock.now()))
              .catch((err: unknown) => actor.logger.error({ err }, 'offline: cancel not committed'));
          });
          return;
        }
        if (s === undefined) return req.respond(500, 'Server Internal Error - session lost');
        req.respond(200, 'OK', { headers: [{ name: 'content-type', value: 'application/sdp' }], body: s.sdp });
        return;
      }
      case 'offline.greet': {
        const s = this.live.get(e.key);
        if (s === undefined) return;
        const { body, type } = this.greeting(s, e.text);
        void s.msrp.send(body, type).then((r) => {
          if (r.status !== 200) actor.logger.info({ status: r.status, reason: r.reason }, 'offline: greeting not taken');
        });
        return;
      }
      case 'offline.store': {
        const m = this.pendingMsrp.get(e.ref);
        this.pendingMsrp.delete(e.ref);
        if (m !== undefined) this.o.mailboxPending.set(e.ref, { respond: (status, reason) => msrpAnswerFor(status, reason, m) });
        queueMicrotask(() => void this.store(e.ref, e.aor, e, m, actor));
        return;
      }
      case 'offline.refuseMessage': {
        const m = this.pendingMsrp.get(e.ref);
        this.pendingMsrp.delete(e.ref);
        m?.respond(e.status, e.comment);
        return;
      }
      case 'offline.respond': {
        const req = this.pendingSip.get(e.requestRef);
        this.pendingSip.delete(e.requestRef);
        req?.respond(e.status);
        return;
      }
      case 'offline.closeMsrp': {
        const s = this.live.get(e.key);
        this.live.delete(e.key);
        s?.msrp.close('session-ended');
        return;
      }
      case 'offline.ended':
        // After the commits of the stores, which precede this effect's own commit.
        queueMicrotask(() => this.o.onEnded?.(e.callee));
        return;
      case 'offline.bye':
        void this.bye(e.dialog as DialogState, e.reason, actor);
        return;
      default:
        actor.logger.warn({ effect: effect.type }, 'offline: unknown effect');
    }
  }

  /** Dispatches the store to the mailbox; its `mailbox.respond` answers the SEND after the commit. */
  private async store(ref: string, aor: string, e: Extract<OfflineSessionEffect, { type: 'offline.store' }>, m: MsrpIncoming | undefined, actor: ActorRef): Promise<void> {
    try {
      const r = await this.o.dispatcher().dispatch(MAILBOX_KIND, aor, mailboxEvents.store(this.o.clock.now(), e.message, e.dedupKeys, false, ref), { create: true });
      if (r !== 'ok') m?.respond(403, 'Not stored');
    } catch (err) {
      actor.logger.error({ err, aor }, 'offline: message not stored');
      m?.respond(403, 'Not stored');
    } finally {
      this.o.mailboxPending.delete(ref); // answered by `mailbox.respond` after the commit, or above
    }
  }

  private async bye(dialog: DialogState, reason: string, actor: ActorRef): Promise<void> {
    const { request } = buildInDialogRequest(dialog, 'BYE', { headers: [{ name: 'reason', value: `SIP;cause=200;text="${reason}"` }] });
    try {
      const r = await this.o.sip.sendRequest(request, { dialog });
      actor.logger.info({ status: r.status, reason }, 'offline: session ended with BYE');
    } catch (err) {
      actor.logger.warn({ err }, 'offline: BYE not sent');
    }
  }

  /** text/plain when the caller takes it, else CPIM (From = the callee, on whose behalf we speak). */
  private greeting(s: LiveSession, text: string): { body: Buffer; type: string } {
    if (acceptTypesTake(s.acceptTypes, 'text/plain') || !acceptTypesTake(s.acceptTypes, CPIM_CONTENT_TYPE)) return { body: Buffer.from(text, 'utf8'), type: 'text/plain' };
    const cpim = buildCpim({
      from: { uri: s.callee },
      to: [{ uri: s.caller }],
      dateTime: new Date(this.o.clock.now()).toISOString(),
      contentType: 'text/plain;charset=utf-8',
      body: text,
    });
    return { body: serializeCpim(cpim), type: CPIM_CONTENT_TYPE };
  }
}
