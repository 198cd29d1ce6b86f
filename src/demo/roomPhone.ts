/**
 * One chat-room participant as a real client does it (RFC 4579, RFC 4975): INVITE to the room
 * with an MSRP chat offer, ACK, an MSRP connection to the path of the room's answer, CPIM
 * messages, BYE to leave, REFER with `method=BYE` to remove someone. Its SIP side is a shared
 * SipStack (requests for its calls come through a CallRouter), its MSRP side a shared
 * MsrpEndpoint. Used by the demo and by the end-to-end tests.
 */
import type { Logger } from 'pino';
import { ProtocolError } from '../errors.js';
import { buildCpim, parseCpim, serializeCpim } from '../formats/cpim.js';
import { buildMsrpOffer, parseMsrpOffer } from '../formats/sdp.js';
import type { MsrpEndpoint } from '../transport/msrp/endpoint.js';
import type { MsrpSession } from '../transport/msrp/session.js';
import { buildInDialogRequest, createUacDialog, type DialogState } from '../transport/sip/dialog.js';
import { getHeader } from '../transport/sip/headers.js';
import type { SipRequest, SipResponse } from '../transport/sip/message.js';
import type { SipStack } from '../transport/sip/stack.js';
import { newCallId, newTag } from '../transport/sip/transaction/branch.js';
import type { IncomingRequest, SipEndpoint } from '../transport/sip/transport.js';
import { formatUri, parseUri } from '../transport/sip/uri.js';
import type { CallRouter } from './context.js';

export interface PhoneDeps {
  readonly ua: SipStack;
  readonly msrp: MsrpEndpoint;
  readonly calls: CallRouter;
  /** Parley's SIP address (out-of-dialog requests go there; in-dialog ones follow the dialog). */
  readonly parley: SipEndpoint;
  readonly logger: Logger;
}

/** Lets a proxy-less request reach the room application whatever the room's domain. */
const APP_HEADER = { name: 'x-parley-app', value: 'conference' } as const;

/** A relayed message or notice as the participant got it. */
export interface Heard {
  readonly from: string;
  readonly text: string;
}

export class RoomPhone {
  /** `sip:user@domain`. */
  readonly uri: string;
  readonly heard: Heard[] = [];
  /** Resolves with the Reason header of the room's BYE (empty without one) once it ends the call. */
  readonly removed: Promise<string>;
  private resolveRemoved!: (reason: string) => void;
  private dialog: DialogState | undefined;
  private answer: SipResponse | undefined;
  private session: MsrpSession | undefined;
  private unroute: (() => void) | undefined;
  private over = false;
  private readonly log: Logger;

  constructor(
    private readonly d: PhoneDeps,
    readonly user: string,
    domain: string,
    readonly room: string,
    readonly displayName?: string,
  ) {
    this.uri = `sip:${user}@${domain}`;
    this.log = d.logger.child({ user, room });
    this.removed = new Promise((r) => (this.resolveRemoved = r));
  }

  /** True from the room's 200 until BYE (either way). */
  get inCall(): boolean {
    return this.dialog !== undefined && !this.over;
  }

  /** Chat messages heard from other participants (not the room's notices). */
  chat(): Heard[] {
    return this.heard.filter((h) => h.from !== this.room);
  }

  /**
   * INVITE with the chat offer; resolves with the final status. On 200 the dialog and the
   * room's MSRP path are known; the ACK is `ack()` (a test or the demo may hold it back).
   */
  async invite(): Promise<number> {
    const session = this.d.msrp.createSession({ setup: 'active', acceptTypes: ['message/cpim', 'text/plain'] });
    this.session = session;
    session.on('message', (m) => {
      m.accept();
      const c = parseCpim(m.body);
      if (c instanceof ProtocolError) return;
      this.heard.push({ from: c.from?.uri ?? '', text: c.body.toString('utf8') });
    });
    const sdp = buildMsrpOffer({
      ...session.sdpLocal,
      acceptTypes: ['message/cpim', 'text/plain'],
      acceptWrappedTypes: ['text/plain', '*'],
      chatroom: ['nickname', 'private-messages'],
      setup: 'active',
    });
    const callId = newCallId();
    this.unroute = this.d.calls.on(callId, (req) => this.onRequest(req));
    const request: SipRequest = {
      kind: 'request',
      method: 'INVITE',
      uri: this.room,
      headers: [
        { name: 'from', value: `${this.displayName !== undefined ? `"${this.displayName}" ` : ''}<${this.uri}>;tag=${newTag()}` },
        { name: 'to', value: `<${this.room}>` },
        { name: 'call-id', value: callId },
        { name: 'cseq', value: '1 INVITE' },
        { name: 'contact', value: `<${this.contact()}>` },
        { name: 'max-forwards', value: '70' },
        APP_HEADER,
        { name: 'content-type', value: 'application/sdp' },
      ],
      body: Buffer.from(sdp),
    };
    const res = await this.d.ua.sendRequest(request, { destination: this.d.parley });
    if (res.status !== 200) {
      this.end();
      return res.status;
    }
    const media = parseMsrpOffer(res.body.toString('utf8'));
    if (media instanceof ProtocolError || session.setRemote({ path: media.path }) !== undefined) {
      this.log.warn({ status: res.status }, 'demo phone: unusable SDP answer from the room');
      this.dialog = createUacDialog(request, res);
      this.answer = res;
      this.ack();
      await this.leave();
      return 488;
    }
    this.dialog = createUacDialog(request, res);
    this.answer = res;
    return 200;
  }

  /** ACKs the room's 200. */
  ack(): void {
    if (this.dialog === undefined || this.answer === undefined) throw new Error(`${this.user}: nothing to ACK`);
    this.d.ua.sendAck(this.dialog, this.answer);
  }

  /** Opens the MSRP connection to the room's path (the room answered passive). */
  async connect(): Promise<void> {
    const s = this.session;
    if (s === undefined || this.over) throw new Error(`${this.user}: not in the room`);
    const r = await s.connect();
    if (r.status !== 200) throw new Error(`${this.user}: MSRP connection to the room failed (${r.status || r.reason})`);
  }

  /** INVITE, ACK, MSRP connection. */
  async join(): Promise<void> {
    const status = await this.invite();
    if (status !== 200) throw new Error(`${this.user}: ${this.room} answered ${status}`);
    this.ack();
    await this.connect();
  }

  /** Sends a chat message (CPIM) to the room, or privately to `to`; resolves with the MSRP status. */
  async say(text: string, to?: string): Promise<number> {
    const s = this.session;
    if (s === undefined) return 0;
    const cpim = buildCpim({
      from: { uri: this.uri, ...(this.displayName !== undefined ? { displayName: this.displayName } : {}) },
      to: [{ uri: to ?? this.room }],
      dateTime: new Date().toISOString(),
      contentType: 'text/plain',
      body: text,
    });
    return (await s.send(serializeCpim(cpim), 'message/cpim')).status;
  }

  /** RFC 7701 NICKNAME; 200 taken, 425 in use. */
  async nickname(name: string): Promise<number> {
    return (await (this.session?.sendNickname(name) ?? Promise.resolve({ status: 0 }))).status;
  }

  /** BYE; resolves with its final status (0 when not in a call). */
  async leave(): Promise<number> {
    const dialog = this.dialog;
    if (dialog === undefined || this.over) return 0;
    this.over = true;
    const { dialog: next, request } = buildInDialogRequest(dialog, 'BYE');
    this.dialog = next;
    try {
      const res = await this.d.ua.sendRequest(request, { dialog: next });
      // The room closes its side of the MSRP session once it has processed the BYE (which it
      // answers first); a connection dropped by us before that would also read as a lost one.
      if (res.status === 200) await this.sessionEnded(2000);
      return res.status;
    } finally {
      this.session?.close('left');
      this.end();
    }
  }

  /**
   * Asks the room to remove `target` (RFC 4579 5.11: REFER with Refer-To `<target;method=BYE>`).
   * Resolves with the REFER's answer (202 accepted, 403 not allowed, 404 not in the room) and,
   * when accepted, the status line of the final NOTIFY (the answer to the room's BYE).
   */
  async kick(target: string): Promise<{ status: number; outcome: Promise<string> }> {
    const callId = newCallId();
    let resolveOutcome!: (s: string) => void;
    const outcome = new Promise<string>((r) => (resolveOutcome = r));
    const unroute = this.d.calls.on(callId, (req) => {
      req.respond(200);
      if (req.request.method !== 'NOTIFY') return;
      const state = (getHeader(req.request, 'subscription-state') ?? '').toLowerCase();
      if (state.startsWith('terminated')) {
        unroute();
        resolveOutcome(req.request.body.toString('utf8').split('\r\n', 1)[0] ?? '');
      }
    });
    const res = await this.d.ua.sendRequest(
      {
        method: 'REFER',
        uri: this.room,
        headers: [
          { name: 'from', value: `<${this.uri}>;tag=${newTag()}` },
          { name: 'to', value: `<${this.room}>` },
          { name: 'call-id', value: callId },
          { name: 'contact', value: `<${this.contact()}>` },
          { name: 'refer-to', value: `<${target};method=BYE>` },
          APP_HEADER,
        ],
      },
      { destination: this.d.parley },
    );
    if (res.status !== 202) {
      unroute();
      resolveOutcome(`${res.status} ${res.reason}`);
    }
    return { status: res.status, outcome };
  }

  /** Drops everything without telling the room (the demo stopping, a failed round). */
  close(): void {
    this.over = true;
    this.session?.close('closed');
    this.end();
  }

  private onRequest(req: IncomingRequest): void {
    req.respond(200);
    if (req.request.method !== 'BYE') return;
    const reason = getHeader(req.request, 'reason') ?? '';
    this.log.debug({ reason }, 'demo phone: the room ended the call');
    this.over = true;
    this.session?.close('removed');
    this.end();
    this.resolveRemoved(reason);
  }

  /** Resolves when the MSRP session has ended, or after `ms` at most. */
  private sessionEnded(ms: number): Promise<void> {
    const s = this.session;
    if (s === undefined || s.isEnded) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      s.once('ended', () => (clearTimeout(t), resolve()));
    });
  }

  private end(): void {
    this.unroute?.();
    this.unroute = undefined;
  }

  /** The demo UA's Contact with this user in it. */
  private contact(): string {
    const c = parseUri(this.d.ua.contactUri());
    return c === undefined ? this.d.ua.contactUri() : formatUri({ ...c, user: this.user });
  }
}
