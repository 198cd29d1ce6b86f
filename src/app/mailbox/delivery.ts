/**
 * The MESSAGE that delivers a stored message (msilo's m_dump): a new request from the original
 * sender to the registered contact, with a Date header carrying the incoming time (RFC 3261
 * 20.17) or, with `add_date`, that date prefixed to a text body (msilo's
 * "[Offline message - <date>]" style; a non-text body is never altered).
 */
import type { SipHeader } from '../../transport/sip/message.js';
import { newCallId, newTag } from '../../transport/sip/transaction/branch.js';
import { requestToContact } from '../../transport/sip/registrar.js';
import type { RegisteredContact } from '../../transport/sip/registrationStore.js';
import type { StoredMessage } from '../../machines/mailboxEffects.js';

export interface DeliveryOptions {
  /** Prefix the stored date to text bodies (msilo `add_date`). Default false. */
  readonly addDate?: boolean;
  /** Extra headers on every delivery (e.g. msilo's `extra_hdrs`). */
  readonly extraHeaders?: readonly SipHeader[];
}

/** The date prefix of `add_date`. */
export function datePrefix(receivedAt: number): string {
  return `[Offline message - ${new Date(receivedAt).toUTCString()}] `;
}

/** One delivery request for `contact` (Request-URI = contact, Route = its Path). */
export function buildDelivery(m: StoredMessage, contact: RegisteredContact, opts: DeliveryOptions = {}) {
  const isText = m.contentType.toLowerCase().startsWith('text/');
  const body = opts.addDate && isText ? Buffer.concat([Buffer.from(datePrefix(m.receivedAt)), Buffer.from(m.body)]) : Buffer.from(m.body);
  const headers: SipHeader[] = [
    { name: 'from', value: `${m.from};tag=${newTag()}` },
    { name: 'to', value: m.to },
    { name: 'call-id', value: newCallId() },
    { name: 'cseq', value: '1 MESSAGE' },
    { name: 'max-forwards', value: '70' },
    { name: 'date', value: new Date(m.receivedAt).toUTCString() },
    { name: 'content-type', value: m.contentType },
    ...(opts.extraHeaders ?? []),
  ];
  return requestToContact(contact, 'MESSAGE', headers, body);
}
