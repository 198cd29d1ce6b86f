/**
 * Requests the room sends as a UAC: invitations (RFC 4579 5.5: INVITE on behalf of a REFER,
 * the room passive in the MSRP offer) and dial-out REFERs (RFC 5366: ask a listed user to join).
 * The application turns an answered invitation into a participant.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import { buildMsrpOffer, parseMsrpOffer } from '../../formats/sdp.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { MsrpSession } from '../../transport/msrp/session.js';
import { buildInDialogRequest, createUacDialog, type DialogState } from '../../transport/sip/dialog.js';
import { getHeader } from '../../transport/sip/headers.js';
import type { SipRequest } from '../../transport/sip/message.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import type { SipTransport } from '../../transport/sip/transport.js';
import { ROOM_ALLOW } from './executor.js';
import { CHATROOM_CAPABILITIES, ROOM_ACCEPT_TYPES, ROOM_WRAPPED_TYPES } from './request.js';

export interface RoomOutboundOptions {
  readonly sip: SipTransport;
  readonly msrp: MsrpEndpoint;
  readonly clock: Clock;
  /** The focus URI of a room (Contact ;isfocus). */
  readonly contactOf: (room: string) => string;
}

/** An invitation the user answered 200 (ACK sent): the call and its MSRP session. */
export interface AnsweredInvitation {
  readonly dialog: DialogState;
  readonly session: MsrpSession;
  readonly who: { uri: string; displayName?: string };
  /** Ends the call (BYE with this Reason) and the session. */
  hangUp(reason: string): void;
}

/** How long a dial-out REFER's implicit subscription may send NOTIFYs we answer. */
const REFER_OUT_MS = 10 * 60_000;
/** Most dial-out REFER dialogs remembered at once. */
const MAX_REFER_OUTS = 10_000;

const newTag = () => randomUUID().replace(/-/g, '').slice(0, 16);

export class RoomOutbound {
  /** Our From tags of dial-out REFERs, so their NOTIFYs (if the user sends any) get 200, not 481. */
  private readonly referOuts = new Map<string, number>();

  constructor(private readonly o: RoomOutboundOptions) {}

  /** True for an in-dialog request of one of our dial-out REFERs' subscriptions. */
  isReferDialog(localTag: string): boolean {
    const until = this.referOuts.get(localTag);
    return until !== undefined && until > this.o.clock.now();
  }

  /**
   * RFC 5366: REFER a user listed by the room's creator to the room (Refer-To = the room,
   * Referred-By = the creator; Refer-Sub: false, RFC 4488, as the room needs no progress).
   * Resolves with the answer's status.
   */
  async referToRoom(room: string, target: string, referredBy: string): Promise<number> {
    const now = this.o.clock.now();
    for (const [t, until] of this.referOuts) if (until <= now || this.referOuts.size >= MAX_REFER_OUTS) this.referOuts.delete(t);
    const tag = newTag();
    this.referOuts.set(tag, now + REFER_OUT_MS);
    const res = await this.o.sip.sendRequest({
      method: 'REFER',
      uri: target,
      headers: [
        { name: 'from', value: `<${room}>;tag=${tag}` },
        { name: 'to', value: `<${target}>` },
        { name: 'contact', value: `<${this.o.contactOf(room)}>;isfocus` },
        { name: 'refer-to', value: `<${room}>` },
        { name: 'referred-by', value: `<${referredBy}>` },
        { name: 'refer-sub', value: 'false' },
        { name: 'supported', value: 'norefersub' },
      ],
    });
    return res.status;
  }

  /**
   * RFC 4579 5.5: INVITE `target` to the room (From = the room, Referred-By = who asked,
   * Contact ;isfocus, an MSRP offer where the room is passive), reporting each provisional and
   * the final status to `report` (the REFER's sipfrag NOTIFYs). Resolves with the answered call
   * (ACK sent), or undefined when the user declined or answered without usable MSRP media
   * (that call is ended with a BYE).
   */
  async invite(room: string, target: string, referredBy: string, report: (status: number, reason: string) => void): Promise<AnsweredInvitation | undefined> {
    const session = this.o.msrp.createSession({ setup: 'passive', acceptTypes: [...ROOM_ACCEPT_TYPES] });
    const sdp = buildMsrpOffer({
      ...session.sdpLocal,
      acceptTypes: ROOM_ACCEPT_TYPES,
      acceptWrappedTypes: ROOM_WRAPPED_TYPES,
      chatroom: CHATROOM_CAPABILITIES,
      setup: 'passive',
    });
    const request: SipRequest = {
      kind: 'request',
      method: 'INVITE',
      uri: target,
      headers: [
        { name: 'from', value: `<${room}>;tag=${newTag()}` },
        { name: 'to', value: `<${target}>` },
        { name: 'call-id', value: `${randomUUID()}@parley` },
        { name: 'cseq', value: '1 INVITE' },
        { name: 'contact', value: `<${this.o.contactOf(room)}>;isfocus` },
        { name: 'referred-by', value: `<${referredBy}>` },
        { name: 'allow', value: ROOM_ALLOW },
        { name: 'content-type', value: 'application/sdp' },
      ],
      body: Buffer.from(sdp),
    };
    const res = await this.o.sip.sendRequest(request, { onProvisional: (r) => report(r.status, r.reason) });
    report(res.status, res.reason);
    if (res.status < 200 || res.status >= 300) {
      session.close('left-room');
      return undefined;
    }
    const dialog = createUacDialog(request, res);
    this.o.sip.sendAck(dialog, res);
    const hangUp = (reason: string) => {
      session.close('left-room');
      const { request: bye } = buildInDialogRequest(dialog, 'BYE', { headers: [{ name: 'reason', value: reason }] });
      void this.o.sip.sendRequest(bye, { dialog });
    };
    const answer = parseMsrpOffer(res.body.toString('utf8'));
    const bad = answer instanceof ProtocolError ? answer : session.setRemote({ path: answer.path, maxSize: answer.maxSize });
    if (bad !== undefined) {
      hangUp('SIP;cause=488;text="Not Acceptable Here"');
      return undefined;
    }
    const to = parseNameAddr(getHeader(res, 'to') ?? '');
    const who = { uri: to?.uri ?? target, ...(to?.displayName ? { displayName: to.displayName } : {}) };
    return { dialog, session, who, hangUp };
  }
}
