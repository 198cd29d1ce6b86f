/**
 * `application/simple-message-summary` (RFC 3842 section 5), the body of `Event:
 * message-summary` NOTIFYs: whether messages wait, where to fetch them (Message-Account), and
 * new/old (urgent new/old) counts per message context class of RFC 3458. Parley reports
 * stored chat messages as `Text-Message` (PROTOCOLS.md, text message-waiting).
 */
import { ProtocolError } from '../errors.js';

/** RFC 3842 content type. */
export const MESSAGE_SUMMARY_CONTENT_TYPE = 'application/simple-message-summary';

/** Message context classes (RFC 3458 section 3), as summary line names in lower case. */
export const MESSAGE_CONTEXT_CLASSES = ['voice-message', 'fax-message', 'pager-message', 'multimedia-message', 'text-message', 'none'] as const;
export type MessageContextClass = (typeof MESSAGE_CONTEXT_CLASSES)[number];

/** One summary line: `Text-Message: 2/0 (0/0)`. */
export interface MessageCounts {
  readonly newCount: number;
  readonly oldCount: number;
  /** Urgent counts, written only when given (RFC 3842: the parenthesis is optional). */
  readonly newUrgent?: number;
  readonly oldUrgent?: number;
}

/** An optional message header after the summary (RFC 3842 `opt-msg-headers`: To, From, Subject...). */
export interface SummaryHeader {
  readonly name: string;
  readonly value: string;
}

export interface MessageSummary {
  /** `Messages-Waiting: yes|no`. */
  readonly waiting: boolean;
  /** `Message-Account`: the URI to fetch from (Parley's fetch address). */
  readonly account?: string;
  /** Per class; a class absent here is not written. */
  readonly counts: Readonly<Partial<Record<MessageContextClass, MessageCounts>>>;
  /** Optional message headers, after a blank line. */
  readonly headers?: readonly SummaryHeader[];
}

/** Parser limits. */
export interface MessageSummaryLimits {
  /** Largest body. Default 8 KiB. */
  readonly maxBytes: number;
  /** Most lines. Default 64. */
  readonly maxLines: number;
}

export const DEFAULT_MESSAGE_SUMMARY_LIMITS: MessageSummaryLimits = Object.freeze({ maxBytes: 8192, maxLines: 64 });

/** Largest count: 9 digits keeps it a safe integer and bounds the line. */
const MAX_COUNT = 999_999_999;

/** `Text-Message` spelling of a class (header names are case-insensitive, this is for reading). */
function lineName(c: MessageContextClass): string {
  return c.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('-');
}

function clean(s: string): string {
  return s.replace(/[\r\n\0]+/g, ' ');
}

function count(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > MAX_COUNT) throw new RangeError(`message-summary: bad count ${n}`);
  return String(n);
}

/**
 * Writes a summary (RFC 3842 section 5.2 grammar, CRLF line ends, classes in RFC 3458
 * order). Values are kept on one line. Throws RangeError for a negative or non-integer count
 * (a programming error, not input).
 */
export function buildMessageSummary(s: MessageSummary): string {
  let x = `Messages-Waiting: ${s.waiting ? 'yes' : 'no'}\r\n`;
  if (s.account !== undefined) x += `Message-Account: ${clean(s.account)}\r\n`;
  for (const c of MESSAGE_CONTEXT_CLASSES) {
    const v = s.counts[c];
    if (v === undefined) continue;
    x += `${lineName(c)}: ${count(v.newCount)}/${count(v.oldCount)}`;
    if (v.newUrgent !== undefined || v.oldUrgent !== undefined) x += ` (${count(v.newUrgent ?? 0)}/${count(v.oldUrgent ?? 0)})`;
    x += '\r\n';
  }
  if (s.headers !== undefined && s.headers.length > 0) {
    x += '\r\n';
    for (const h of s.headers) x += `${clean(h.name).replace(/:/g, '')}: ${clean(h.value)}\r\n`;
  }
  return x;
}

/**
 * The text message-waiting summary Parley sends (PROTOCOLS.md): waiting when anything is
 * new, the fetch address, and `Text-Message: new/old (0/0)` (chat messages have no urgency).
 */
export function textMessageSummary(account: string, newCount: number, oldCount: number): MessageSummary {
  return { waiting: newCount > 0, account, counts: { 'text-message': { newCount, oldCount, newUrgent: 0, oldUrgent: 0 } } };
}

function bad(why: string): ProtocolError {
  return new ProtocolError('MESSAGE_SUMMARY_MALFORMED', 400, `message-summary: ${why}`);
}

const CLASS_SET: ReadonlySet<string> = new Set(MESSAGE_CONTEXT_CLASSES);
const COUNTS = /^(\d{1,9})\s*\/\s*(\d{1,9})(?:\s*\(\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*\))?$/;

/**
 * Parses a summary. Header names are case-insensitive; CRLF or LF line ends; unknown classes
 * and extension lines before the blank line are ignored (RFC 3842 5.2 allows extensions). The
 * first line must be Messages-Waiting. 400 when malformed, 413 over a limit; never throws.
 */
export function parseMessageSummary(input: string | Buffer, limits: Partial<MessageSummaryLimits> = {}): MessageSummary | ProtocolError {
  const l = { ...DEFAULT_MESSAGE_SUMMARY_LIMITS, ...limits };
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > l.maxBytes) return new ProtocolError('MESSAGE_SUMMARY_TOO_LARGE', 413, `message-summary over ${l.maxBytes} bytes`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length > l.maxLines) return new ProtocolError('MESSAGE_SUMMARY_TOO_LARGE', 413, `message-summary: more than ${l.maxLines} lines`);
  let waiting: boolean | undefined;
  let account: string | undefined;
  const counts: Partial<Record<MessageContextClass, MessageCounts>> = {};
  const headers: SummaryHeader[] = [];
  let inHeaders = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') {
      if (inHeaders) continue;
      inHeaders = true;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return bad(`line ${i + 1} has no header name`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(name)) return bad(`line ${i + 1} has a malformed name`);
    if (inHeaders) {
      headers.push({ name, value });
      continue;
    }
    const key = name.toLowerCase();
    if (i === 0) {
      if (key !== 'messages-waiting') return bad('first line must be Messages-Waiting');
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') return bad('Messages-Waiting must be yes or no');
      waiting = v === 'yes';
    } else if (key === 'message-account') {
      if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(value)) return bad('Message-Account is not a URI');
      account = value;
    } else if (CLASS_SET.has(key)) {
      const m = COUNTS.exec(value);
      if (m === null) return bad(`bad counts for ${name}`);
      const c: { -readonly [K in keyof MessageCounts]: MessageCounts[K] } = { newCount: Number(m[1]), oldCount: Number(m[2]) };
      if (m[3] !== undefined) {
        c.newUrgent = Number(m[3]);
        c.oldUrgent = Number(m[4]);
      }
      counts[key as MessageContextClass] = c;
    }
  }
  if (waiting === undefined) return bad('empty');
  return { waiting, ...(account !== undefined ? { account } : {}), counts, ...(headers.length > 0 ? { headers } : {}) };
}
