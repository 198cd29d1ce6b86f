/**
 * The offline chat sessions of one process: answering an INVITE on behalf of an offline user
 * (the SDP answer and the MSRP session prepared before the session actor's commit, the 200
 * sent by its `offline.answer` effect), wiring the MSRP session's connection, messages and loss
 * to the actor, and the requests inside the dialog (ACK, BYE; 488 to a re-INVITE, 405 else).
 * MSRP SENDs: 413 over the size limit, 400 bad CPIM, 481 once the session has ended; the rest
 * is decided by the actor and answered after the mailbox's commit.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { ProtocolError } from '../../errors.js';
import { OFFLINE_SESSION_KIND, offlineSessionKey } from '../../actors/offlineSessionKind.js';
import { CPIM_CONTENT_TYPE, parseCpim } from '../../formats/cpim.js';
import { readImdn } from '../../formats/imdn.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { IncomingMessage as MsrpIncoming, MsrpSession } from '../../transport/msrp/session.js';
import type { IncomingRequest } from '../../transport/sip/transport.js';
import { createUasDialog } from '../../transport/sip/dialog.js';
import { offlineSessionEvents as ev, type OfflineSessionInput } from '../../machines/offlineSessionEffects.js';
import type { IncomingMessage } from '../../machines/mailboxEffects.js';
import { dedupKeysOf } from '../mailbox/request.js';
import { answerOffer } from './answer.js';
import type { OfflineDispatcher, OfflineExecutor } from './executor.js';
import { parseOfflineInvite, type OfflineInvite } from './invite.js';

/** The settings sessions use (a part of `OfflineConfig`). */
export interface SessionSettings {
  readonly graceMs: number;
  readonly greeting: string;
  readonly greetings: Readonly<Record<string, string>>;
  readonly maxMessages: number;
  readonly maxBodyBytes: number;
  readonly maxSessions: number;
}

export interface OfflineSessionsOptions {
  readonly msrp: MsrpEndpoint;
  readonly clock: Clock;
  readonly trustAsserted: boolean;
  readonly dispatcher: () => OfflineDispatcher;
}

export class OfflineSessions {
  /** Set when the server stops: a closing MSRP session then does not end its actor. */
  stopped = false;

  constructor(
    private readonly o: OfflineSessionsOptions,
    private readonly cfg: SessionSettings,
    private readonly domains: readonly string[],
    private readonly executor: OfflineExecutor,
    private readonly log: Logger,
  ) {}

  private dispatch(key: string, event: Parameters<OfflineDispatcher['dispatch']>[2], create = false) {
    return this.o.dispatcher().dispatch(OFFLINE_SESSION_KIND, key, event, { create });
  }

  /** True when `key` names a live or persisted session (in-dialog routing). */
  known(key: string): boolean {
    return this.executor.live.has(key) || this.o.dispatcher().peek(OFFLINE_SESSION_KIND, key) !== undefined;
  }

  private greetingFor(callee: string): string {
    const domain = callee.slice(callee.lastIndexOf('@') + 1).toLowerCase();
    return this.cfg.greetings[domain] ?? this.cfg.greeting;
  }

  /** Wires one MSRP session's events to its actor. */
  private watch(key: string, session: MsrpSession, invite: OfflineInvite): void {
    session.on('connected', () => {
      this.dispatch(key, ev.msrpConnected(this.o.clock.now())).catch((err: unknown) => this.log.error({ err, key }, 'offline: MSRP connect not committed'));
    });
    session.on('message', (m) => this.onMessage(key, invite, m));
    session.on('ended', ({ reason }) => {
      // Closed by the session itself (BYE, window over), or by a stopping server: a restart must
      // not end the session, whose window the next process still closes on time.
      if (!this.executor.live.has(key) || this.stopped) return;
      this.executor.live.delete(key);
      this.dispatch(key, ev.msrpClosed(this.o.clock.now(), reason)).catch((err: unknown) => this.log.error({ err, key }, 'offline: MSRP close not committed'));
    });
  }

  private onMessage(key: string, invite: OfflineInvite, m: MsrpIncoming): void {
    if (m.body.length > this.cfg.maxBodyBytes) return m.respond(413, 'Message too large');
    const contentType = m.contentType ?? 'text/plain';
    let imdnId: string | undefined;
    if (contentType.toLowerCase().startsWith(CPIM_CONTENT_TYPE)) {
      const cpim = parseCpim(m.body);
      if (cpim instanceof ProtocolError) return m.respond(400, cpim.message);
      imdnId = readImdn(cpim).messageId;
    }
    const message: IncomingMessage = {
      ruri: invite.callee,
      from: invite.from,
      to: invite.to,
      contentType,
      body: m.body,
      callId: invite.callId,
      cseq: 0,
      ...(imdnId !== undefined ? { messageId: imdnId } : {}),
      session: { caller: invite.caller },
    };
    // A re-sent SEND repeats its MSRP Message-ID in this session; a re-sent CPIM message its IMDN id.
    const dedupKeys = dedupKeysOf(`${invite.callId}\u0000${m.messageId}`, 0, imdnId);
    const ref = randomUUID();
    this.executor.pendingMsrp.set(ref, m);
    this.dispatch(key, ev.messageReceived(this.o.clock.now(), ref, message, dedupKeys))
      .then((r) => {
        if (r !== 'ok') m.respond(r === 'absent' ? 481 : 403, r === 'absent' ? 'Session ended' : 'Not stored');
      })
      .catch((err: unknown) => {
        this.log.error({ err, key }, 'offline: message not committed');
        m.respond(403, 'Not stored');
      })
      .finally(() => this.executor.pendingMsrp.delete(ref));
  }

  /** Answers an INVITE for an offline user (after the session's commit). */
  async invite(req: IncomingRequest): Promise<void> {
    if (this.executor.live.size >= this.cfg.maxSessions) return req.respond(486, 'Busy Here - too many offline sessions');
    const invite = parseOfflineInvite(req.request, this.domains, this.o.trustAsserted);
    const dialog = createUasDialog(req.request, req.localTag);
    const key = offlineSessionKey(invite.callId, req.localTag);
    const { session, sdp } = answerOffer(this.o.msrp, invite.offer, invite.types, this.cfg.maxBodyBytes);
    this.executor.live.set(key, { msrp: session, sdp, acceptTypes: invite.types.acceptTypes, callee: invite.callee, caller: invite.caller });
    this.watch(key, session, invite);
    const input: OfflineSessionInput = {
      key,
      callee: invite.callee,
      caller: invite.caller,
      dialog,
      greeting: this.greetingFor(invite.callee),
      graceMs: this.cfg.graceMs,
      maxMessages: this.cfg.maxMessages,
    };
    const ref = randomUUID();
    this.executor.pendingSip.set(ref, req);
    try {
      const r = await this.dispatch(key, ev.offered(this.o.clock.now(), ref, input), true);
      if (r !== 'ok') throw new Error(`offered: ${r}`);
    } catch (err) {
      this.log.error({ err, key }, 'offline: session not created');
      this.executor.live.delete(key);
      session.close('not-created');
      req.respond(500, 'Server Internal Error - session not created');
    } finally {
      this.executor.pendingSip.delete(ref);
    }
  }

  /** ACK, BYE and anything else inside a session's dialog. */
  async inDialog(req: IncomingRequest, key: string): Promise<void> {
    const method = req.request.method;
    if (method === 'ACK') {
      await this.dispatch(key, ev.ackReceived(this.o.clock.now()));
      const s = this.executor.live.get(key);
      // RFC 6135: we connect when we answered a=setup:active (the caller offered passive).
      if (s !== undefined && s.msrp.setup === 'active' && s.msrp.connection === undefined) {
        const r = await s.msrp.connect();
        if (r.status !== 200) this.log.info({ key, status: r.status, reason: r.reason }, 'offline: MSRP connect failed');
      }
      return;
    }
    if (method === 'BYE') {
      const ref = randomUUID();
      this.executor.pendingSip.set(ref, req);
      try {
        const r = await this.dispatch(key, ev.byeReceived(this.o.clock.now(), ref));
        if (r === 'absent') req.respond(481, 'Call/Transaction Does Not Exist');
      } finally {
        this.executor.pendingSip.delete(ref);
      }
      return;
    }
    // A re-INVITE or anything else: this session changes nothing (RFC 3261 14.2: 488 keeps it).
    if (method === 'INVITE') return req.respond(488, 'Not Acceptable Here - offline session');
    req.respond(405, 'Method Not Allowed', { headers: [{ name: 'allow', value: 'INVITE, ACK, BYE' }] });
  }
}
