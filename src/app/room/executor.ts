/**
 * Performs the room machine's effects after their commit: SIP answers (the 200 with the
 * focus' SDP answer and `Contact: ...;isfocus`), BYEs, MSRP answers to pending SENDs and
 * NICKNAMEs, relays, notices and history replay. `store.*` effects become LMDB writes inside
 * the commit (`storeWrites`).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { ActorRef, Effect } from '../../actors/effects.js';
import type { Write } from '../../actors/store.js';
import type { RoomEffect } from '../../machines/effects.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { Answerable, MsrpSession } from '../../transport/msrp/session.js';
import { buildInDialogRequest, type DialogState } from '../../transport/sip/dialog.js';
import type { SipHeader } from '../../transport/sip/message.js';
import type { IncomingRequest, SipTransport } from '../../transport/sip/transport.js';
import { buildConferenceInfo, partialConferenceInfo } from '../../formats/conferenceInfo.js';
import { buildSipfrag, isFinalSipfragStatus } from '../../formats/sipfrag.js';
import { buildNotify, onNotifyResponse, type Subscription } from '../../transport/sip/subscription.js';
import type { RoomHistory } from './history.js';
import { noticeCpim, relayedCpim, type Relay } from './relay.js';

/** A join waiting for the room's verdict: the INVITE, its prepared answer, its MSRP session. */
export interface PendingJoin {
  readonly request: IncomingRequest;
  readonly sdp: string;
  readonly contact: string;
  readonly session: MsrpSession;
  accepted: boolean;
}

/** A REFER waiting for the room's verdict, with its implicit subscription (RFC 3515). */
export interface PendingRefer {
  /** The REFER's implicit subscription (`acceptRefer`); absent when it asked for none (`Refer-Sub: false`, RFC 4488). */
  readonly subscription?: Subscription;
  /** `kick`: Refer-To with method=BYE (RFC 4579 5.11); `invite`: a plain Refer-To (5.5). */
  readonly kind: 'kick' | 'invite';
}

/** Invites a user to a room (the application's part: SIP UAC, MSRP session, dispatch). */
export type InviteUser = (room: string, target: string, referredBy: string, refer: Subscription | undefined, actor: ActorRef) => void;

export interface RoomExecutorOptions {
  readonly sip: SipTransport;
  readonly msrp: MsrpEndpoint;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly history: RoomHistory;
  readonly relay: Relay;
  /** The focus Contact URI of a room (NOTIFY is a target refresh request: it carries one). */
  readonly contactOf: (room: string) => string;
  /** A NOTIFY failed in a way that ends its subscription (RFC 6665 4.2.2). */
  readonly onSubscriptionFailed: (room: string, subscriptionId: string) => void;
  readonly inviteUser: InviteUser;
  /** RFC 5366: REFERs a listed user to the room (the application's SIP UAC part). */
  readonly referToRoom: (room: string, target: string, referredBy: string, actor: ActorRef) => void;
}

/** Allow header of the focus' answers (RFC 4579 requires INVITE, ACK, BYE, REFER, SUBSCRIBE...). */
export const ROOM_ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, REFER, SUBSCRIBE, NOTIFY';

export class RoomExecutor {
  /** SIP requests waiting for an answer decided by their room (`requestRef` -> request). */
  readonly pendingRequests = new Map<string, IncomingRequest>();
  readonly pendingJoins = new Map<string, PendingJoin>();
  readonly pendingRefers = new Map<string, PendingRefer>();
  /** Accepted REFERs: their implicit subscription, until `sip.inviteUser` or the kick's BYE takes it. */
  private readonly referSubscriptions = new Map<string, Subscription>();
  /** Headers of an answer decided outside the room (SUBSCRIBE's Expires), sent with the room's status. */
  readonly pendingHeaders = new Map<string, readonly SipHeader[]>();
  /** MSRP transactions (SEND, NICKNAME) waiting for their room's answer. */
  readonly pendingAnswers = new Map<string, Answerable>();

  constructor(private readonly o: RoomExecutorOptions) {}

  storeWrites(effect: Effect): readonly Write[] {
    const e = effect as unknown as RoomEffect;
    switch (e.type) {
      case 'store.appendHistory':
        return this.o.history.appendWrites(e.room, e.limit, e.message);
      case 'store.clearHistory':
        return this.o.history.clearWrites(e.room);
      default:
        throw new Error(`room: no store writes for ${effect.type}`);
    }
  }

  execute(effect: Effect, actor: ActorRef): void {
    const e = effect as unknown as RoomEffect;
    switch (e.type) {
      case 'sip.respond': {
        const req = this.pendingRequests.get(e.requestRef);
        this.pendingRequests.delete(e.requestRef);
        const headers = this.pendingHeaders.get(e.requestRef);
        this.pendingHeaders.delete(e.requestRef);
        req?.respond(e.status, e.reason, headers !== undefined && e.status < 300 ? { headers } : undefined);
        const refer = this.pendingRefers.get(e.requestRef);
        this.pendingRefers.delete(e.requestRef);
        if (refer?.subscription === undefined || e.status >= 300) return;
        // RFC 3515 2.4.5: an accepted REFER is followed by NOTIFYs. A kick is done once the
        // room has sent its BYE (final 200 OK); an invitation starts with 100 Trying.
        // Either way the subscription starts with 100 Trying; the BYE's (kick) or the
        // invitee's (invite) final answer ends it.
        this.referSubscriptions.set(e.requestRef, this.notifySipfrag(refer.subscription, 100, 'Trying', actor));
        return;
      }
      case 'sip.acceptJoin': {
        const j = this.pendingJoins.get(e.requestRef);
        if (j === undefined) return;
        j.accepted = true;
        this.pendingJoins.delete(e.requestRef);
        const headers: SipHeader[] = [
          { name: 'contact', value: j.contact },
          { name: 'allow', value: ROOM_ALLOW },
          { name: 'content-type', value: 'application/sdp' },
        ];
        j.request.respond(200, 'OK', { headers, body: j.sdp });
        // RFC 6135: when the room is the active side it opens the connection.
        if (j.session.setup === 'active') void j.session.connect();
        return;
      }
      case 'sip.bye': {
        const refer = e.referRef === undefined ? undefined : this.referSubscriptions.get(e.referRef);
        if (e.referRef !== undefined) this.referSubscriptions.delete(e.referRef);
        this.bye(e.dialog as DialogState, e.reason, actor, refer);
        return;
      }
      case 'msrp.answer': {
        const a = this.pendingAnswers.get(e.ref);
        this.pendingAnswers.delete(e.ref);
        if (a === undefined) return;
        if (e.status === 200) a.accept();
        else a.respond(e.status, e.comment);
        return;
      }
      case 'msrp.relay':
        this.o.relay.send(e.sessions, relayedCpim(e.message));
        return;
      case 'msrp.notice':
        this.o.relay.send(e.sessions, noticeCpim(e.room, e.text, this.o.clock.now()));
        return;
      case 'msrp.replayHistory': {
        for (const m of this.o.history.latest(e.room, e.limit)) this.o.relay.send([e.session], relayedCpim(m));
        this.o.relay.send([e.session], noticeCpim(e.room, e.welcome, this.o.clock.now()));
        return;
      }
      case 'sip.inviteUser': {
        const refer = this.referSubscriptions.get(e.requestRef);
        this.referSubscriptions.delete(e.requestRef);
        this.o.inviteUser(e.room, e.target, e.referredBy, refer, actor);
        return;
      }
      case 'sip.referToRoom':
        this.o.referToRoom(e.room, e.target, e.referredBy, actor);
        return;
      case 'sip.notifyRoster':
        this.notifyRoster(e.room, e.subscription as Subscription, e.document, actor);
        return;
      case 'msrp.close': {
        if (typeof e.session !== 'string') return;
        this.o.relay.forget(e.session);
        this.o.msrp.getSession(e.session)?.close('left-room');
        return;
      }
      default:
        actor.logger.warn({ effect: effect.type }, 'room: unknown effect');
    }
  }

  private bye(dialog: DialogState, reason: string, actor: ActorRef, refer?: Subscription): void {
    const { request } = buildInDialogRequest(dialog, 'BYE', { headers: [{ name: 'reason', value: reason }] });
    this.o.sip.sendRequest(request, { dialog }).then(
      (r) => {
        actor.logger.debug({ status: r.status, callId: dialog.callId }, 'room: BYE answered');
        // RFC 4579 5.11: the kick's REFER learns how the BYE went.
        if (refer !== undefined) this.notifySipfrag(refer, r.status, r.reason, actor);
      },
      (err: unknown) => {
        actor.logger.warn({ err, callId: dialog.callId }, 'room: BYE not sent');
        if (refer !== undefined) this.notifySipfrag(refer, 503, 'Service Unavailable', actor);
      },
    );
  }

  private notifyRoster(room: string, sub: Subscription, doc: Extract<RoomEffect, { type: 'sip.notifyRoster' }>['document'], actor: ActorRef): void {
    const body =
      doc === undefined
        ? undefined
        : (version: number) =>
            buildConferenceInfo(
              doc.kind === 'full'
                ? { entity: room, state: 'full', version, conferenceState: { userCount: doc.userCount, active: true }, users: doc.users }
                : partialConferenceInfo(room, version, doc.changes, doc.userCount),
            );
    const { request } = buildNotify(sub, { now: this.o.clock.now(), contact: this.o.contactOf(room), ...(body !== undefined ? { body } : {}) });
    this.o.sip.sendRequest(request, { dialog: sub.dialog }).then(
      (r) => {
        if (sub.state !== 'terminated' && onNotifyResponse(r.status) === 'remove') this.o.onSubscriptionFailed(room, sub.dialog.localTag);
      },
      (err: unknown) => actor.logger.warn({ err }, 'room: roster NOTIFY not sent'),
    );
  }

  /**
   * A NOTIFY of the REFER's implicit subscription carrying a message/sipfrag (`Event:
   * refer;id=<REFER CSeq>`); a final status ends the subscription (RFC 3515 2.4.5). Returns the
   * subscription with its dialog moved on (the next NOTIFY's CSeq).
   */
  notifySipfrag(refer: Subscription, status: number, reason: string, actor: ActorRef): Subscription {
    const final = isFinalSipfragStatus(status);
    const left = Math.max(1, Math.ceil((refer.expiresAt - this.o.clock.now()) / 1000));
    const { dialog: next, request } = buildInDialogRequest(refer.dialog, 'NOTIFY', {
      headers: [
        { name: 'event', value: refer.eventId === undefined ? refer.event : `${refer.event};id=${refer.eventId}` },
        { name: 'subscription-state', value: final ? 'terminated;reason=noresource' : `active;expires=${left}` },
        { name: 'content-type', value: refer.contentType },
      ],
      body: buildSipfrag(status, reason),
    });
    this.o.sip.sendRequest(request, { dialog: refer.dialog }).then(
      (r) => actor.logger.debug({ status: r.status }, 'room: sipfrag NOTIFY answered'),
      (err: unknown) => actor.logger.warn({ err }, 'room: sipfrag NOTIFY not sent'),
    );
    return { ...refer, dialog: next };
  }
}
