import { randomBytes } from 'node:crypto';
import { type CpimHeader, type CpimMessage, getCpimHeader } from './cpim.js';

/** RFC 5438 section 5: the IMDN namespace declared in CPIM with `NS: imdn <urn:ietf:params:imdn>`. */
export const IMDN_NS = 'urn:ietf:params:imdn';

/** Notifications a sender may ask for (RFC 5438 section 6.2 Disposition-Notification). */
export type DispositionNotification = 'positive-delivery' | 'negative-delivery' | 'processing' | 'display';

/** The IMDN request carried by a CPIM message. */
export interface ImdnRequest {
  readonly messageId: string | undefined;
  readonly notifications: readonly DispositionNotification[];
}

const KNOWN = new Set(['positive-delivery', 'negative-delivery', 'processing', 'display']);

/** Reads imdn.Message-ID and imdn.Disposition-Notification; unknown tokens are ignored (section 6.2). */
export function readImdn(m: CpimMessage): ImdnRequest {
  const dn = getCpimHeader(m, IMDN_NS, 'Disposition-Notification');
  const notifications = (dn ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s): s is DispositionNotification => KNOWN.has(s));
  return { messageId: getCpimHeader(m, IMDN_NS, 'Message-ID'), notifications };
}

/**
 * The CPIM headers that request notifications; pass `{ imdn: IMDN_NS }` as `ns` and these as
 * `extra` to buildCpim. RFC 5438 requires DateTime in such a message too.
 */
export function imdnHeaders(messageId: string, notifications: readonly DispositionNotification[]): CpimHeader[] {
  const out: CpimHeader[] = [{ name: 'imdn.Message-ID', value: messageId }];
  if (notifications.length > 0) out.push({ name: 'imdn.Disposition-Notification', value: notifications.join(', ') });
  return out;
}

/** A fresh IMDN Message-ID: 96 random bits (section 6.3 asks for global uniqueness). */
export function newImdnMessageId(): string {
  return randomBytes(12).toString('base64url');
}
