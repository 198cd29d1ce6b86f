/**
 * The body Parley sends for a stored message on a delivery or fetch session: CPIM with
 * From = the original sender (the identity Parley established, never what the sender wrote in
 * its own CPIM From), To = the user, DateTime = when it was stored, and the sender's IMDN
 * Message-ID and notification request kept (RFC 5438: receipts still reach the sender). When
 * the user's client does not take message/cpim, the inner content goes as it is.
 */
import { ProtocolError } from '../../errors.js';
import { buildCpim, CPIM_CONTENT_TYPE, parseCpim, serializeCpim } from '../../formats/cpim.js';
import { IMDN_NS, imdnHeaders, readImdn } from '../../formats/imdn.js';
import { acceptTypesTake } from '../../formats/sdp.js';
import { parseNameAddr } from '../../transport/sip/nameAddr.js';
import type { MsrpSession } from '../../transport/msrp/session.js';
import type { Clock } from '../../clock.js';
import type { StoredMessage } from '../../machines/mailboxEffects.js';

/** The sender of a stored message: its identity (`session.caller`) or its From URI, with the display name. */
export function senderOf(m: StoredMessage): { uri: string; displayName?: string } {
  const na = parseNameAddr(m.from);
  const uri = m.session?.caller ?? na?.uri ?? m.from;
  return na?.displayName ? { uri, displayName: na.displayName } : { uri };
}

export function outgoingBody(m: StoredMessage, user: string, acceptTypes: readonly string[]): { body: Buffer; contentType: string } {
  let innerType = m.contentType;
  let inner = Buffer.from(m.body);
  let imdn: ReturnType<typeof readImdn> | undefined;
  if (m.contentType.toLowerCase().startsWith(CPIM_CONTENT_TYPE)) {
    const cpim = parseCpim(inner);
    if (!(cpim instanceof ProtocolError)) {
      innerType = cpim.contentType ?? 'text/plain';
      inner = Buffer.from(cpim.body);
      imdn = readImdn(cpim);
    }
  }
  if (!acceptTypesTake(acceptTypes, CPIM_CONTENT_TYPE)) return { body: inner, contentType: innerType };
  const id = imdn?.messageId ?? m.messageId;
  const cpim = buildCpim({
    from: senderOf(m),
    to: [{ uri: user }],
    dateTime: new Date(m.receivedAt).toISOString(),
    ...(id !== undefined ? { ns: { imdn: IMDN_NS }, extra: imdnHeaders(id, imdn?.notifications ?? []) } : {}),
    contentType: innerType,
    body: inner,
  });
  return { body: serializeCpim(cpim), contentType: CPIM_CONTENT_TYPE };
}

/** Resolves true once the peer's MSRP connection is there; false after `timeoutMs` or if the session ended first. */
export function whenConnected(session: MsrpSession, clock: Clock, timeoutMs: number): Promise<boolean> {
  if (session.connection !== undefined) return Promise.resolve(true);
  if (session.isEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clock.clearTimeout(timer);
      session.off('connected', onConnected);
      session.off('ended', onEnded);
      resolve(ok);
    };
    const onConnected = () => done(true);
    const onEnded = () => done(false);
    const timer = clock.setTimeout(() => done(false), timeoutMs);
    session.on('connected', onConnected);
    session.on('ended', onEnded);
  });
}
