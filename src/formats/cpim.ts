import { ProtocolError } from '../errors.js';

/** MIME type of a CPIM wrapper (RFC 3862). */
export const CPIM_CONTENT_TYPE = 'message/cpim';

/** A CPIM header line, as it appears: `[prefix.]Name: value` (RFC 3862 section 3.1). */
export interface CpimHeader {
  /** Full name including any namespace prefix, e.g. `imdn.Message-ID`. */
  readonly name: string;
  readonly value: string;
}

/** `[Formal-name] "<" URI ">"` of From, To and cc (RFC 3862 section 3.3). */
export interface CpimAddress {
  readonly displayName?: string;
  readonly uri: string;
}

/** A decoded message/cpim body. */
export interface CpimMessage {
  /** Message headers in order (serialization uses these). */
  readonly headers: readonly CpimHeader[];
  /** MIME headers of the encapsulated content (Content-Type, Content-ID...), in order. */
  readonly contentHeaders: readonly CpimHeader[];
  readonly body: Buffer;
  readonly from: CpimAddress | undefined;
  readonly to: readonly CpimAddress[];
  readonly cc: readonly CpimAddress[];
  readonly dateTime: string | undefined;
  readonly subject: string | undefined;
  /** Namespace prefix -> URI, from the NS headers (section 3.3.7). */
  readonly namespaces: Readonly<Record<string, string>>;
  /** Header names listed by Require (section 3.3.8). */
  readonly require: readonly string[];
  /** Content-Type of the encapsulated content. */
  readonly contentType: string | undefined;
}

/** Limits of parseCpim. */
export interface CpimLimits {
  /** Largest header section (message plus content headers). Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Most header lines. Default 64. */
  readonly maxHeaders: number;
}

const DEFAULTS: CpimLimits = { maxHeaderBytes: 16 * 1024, maxHeaders: 64 };
const NAME = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Parses message/cpim: message headers, blank line, MIME headers, blank line, content.
 * Malformed input is a ProtocolError with status 400 (what a chat focus answers, PROTOCOLS.md).
 */
export function parseCpim(input: Buffer, limits: Partial<CpimLimits> = {}): CpimMessage | ProtocolError {
  const lim = { ...DEFAULTS, ...limits };
  const first = readHeaderBlock(input, 0, lim);
  if (first instanceof ProtocolError) return first;
  const second = readHeaderBlock(input, first.next, lim, lim.maxHeaders - first.headers.length);
  if (second instanceof ProtocolError) return second;
  const headers = first.headers;
  const namespaces: Record<string, string> = {};
  const require: string[] = [];
  const to: CpimAddress[] = [];
  const cc: CpimAddress[] = [];
  let from: CpimAddress | undefined;
  let dateTime: string | undefined;
  let subject: string | undefined;
  for (const h of headers) {
    switch (h.name) {
      case 'From': {
        const a = parseCpimAddress(h.value);
        if (a === undefined) return bad('bad From');
        from = a;
        break;
      }
      case 'To':
      case 'cc': {
        const a = parseCpimAddress(h.value);
        if (a === undefined) return bad(`bad ${h.name}`);
        (h.name === 'To' ? to : cc).push(a);
        break;
      }
      case 'DateTime':
        if (Number.isNaN(Date.parse(h.value))) return bad('bad DateTime');
        dateTime = h.value;
        break;
      case 'Subject':
        // `Subject:;lang=fr value` carries a language parameter; keep the text.
        subject = h.value.startsWith(';') ? h.value.slice(h.value.indexOf(' ') + 1) : h.value;
        break;
      case 'NS': {
        const m = /^(?:([A-Za-z0-9\-_]+) ?)?<([^<>\s]+)>$/.exec(h.value);
        if (m === null) return bad('bad NS');
        namespaces[m[1] ?? ''] = m[2];
        break;
      }
      case 'Require':
        require.push(...h.value.split(',').map((s) => s.trim()).filter((s) => s !== ''));
        break;
      default:
        break;
    }
  }
  const contentType = second.headers.find((h) => h.name.toLowerCase() === 'content-type')?.value;
  return {
    headers,
    contentHeaders: second.headers,
    body: input.subarray(second.next),
    from,
    to,
    cc,
    dateTime,
    subject,
    namespaces,
    require,
    contentType,
  };
}

/** Exact inverse of parseCpim for well-formed input. */
export function serializeCpim(m: Pick<CpimMessage, 'headers' | 'contentHeaders' | 'body'>): Buffer {
  let head = '';
  // A value starting with ';' carries header parameters right after the colon (section 3.1).
  for (const h of m.headers) head += h.value.startsWith(';') ? `${h.name}:${h.value}\r\n` : `${h.name}: ${h.value}\r\n`;
  head += '\r\n';
  for (const h of m.contentHeaders) head += `${h.name}: ${h.value}\r\n`;
  head += '\r\n';
  return Buffer.concat([Buffer.from(head, 'utf8'), m.body]);
}

/** What buildCpim takes. `ns` maps prefix -> URI; `extra` headers may use those prefixes. */
export interface CpimSpec {
  from: CpimAddress;
  to: readonly CpimAddress[];
  cc?: readonly CpimAddress[];
  dateTime?: string;
  subject?: string;
  ns?: Readonly<Record<string, string>>;
  require?: readonly string[];
  extra?: readonly CpimHeader[];
  contentType: string;
  contentHeaders?: readonly CpimHeader[];
  body: Buffer | string;
}

/** Builds a CPIM message (headers in RFC 3862 section 3.3 order, NS before its users). */
export function buildCpim(s: CpimSpec): CpimMessage {
  const headers: CpimHeader[] = [{ name: 'From', value: formatCpimAddress(s.from) }];
  for (const t of s.to) headers.push({ name: 'To', value: formatCpimAddress(t) });
  for (const c of s.cc ?? []) headers.push({ name: 'cc', value: formatCpimAddress(c) });
  if (s.dateTime !== undefined) headers.push({ name: 'DateTime', value: s.dateTime });
  if (s.subject !== undefined) headers.push({ name: 'Subject', value: s.subject });
  for (const [p, uri] of Object.entries(s.ns ?? {})) headers.push({ name: 'NS', value: p === '' ? `<${uri}>` : `${p} <${uri}>` });
  if (s.require !== undefined && s.require.length > 0) headers.push({ name: 'Require', value: s.require.join(',') });
  headers.push(...(s.extra ?? []));
  const body = typeof s.body === 'string' ? Buffer.from(s.body, 'utf8') : s.body;
  const contentHeaders = [{ name: 'Content-Type', value: s.contentType }, ...(s.contentHeaders ?? [])];
  const parsed = parseCpim(serializeCpim({ headers, contentHeaders, body }));
  if (parsed instanceof ProtocolError) throw parsed; // only on a caller bug (e.g. a bad URI)
  return parsed;
}

/**
 * The value of a namespaced header (`<prefix>.<name>`) where prefix is whatever the message
 * declared for `nsUri` with NS (RFC 3862 section 3.3.7: prefixes are local to the message).
 */
export function getCpimHeader(m: CpimMessage, nsUri: string, name: string): string | undefined {
  for (const [p, uri] of Object.entries(m.namespaces)) {
    if (uri !== nsUri) continue;
    const full = p === '' ? name : `${p}.${name}`;
    const h = m.headers.find((x) => x.name === full);
    if (h !== undefined) return h.value;
  }
  return undefined;
}

/** Parses `"Display Name" <uri>`, `Name <uri>` or `<uri>`. */
export function parseCpimAddress(v: string): CpimAddress | undefined {
  const lt = v.lastIndexOf('<');
  if (lt < 0 || !v.endsWith('>')) return undefined;
  const uri = v.slice(lt + 1, -1);
  if (uri === '' || /[\s<>]/.test(uri)) return undefined;
  const name = v.slice(0, lt).trim();
  if (name === '') return { uri };
  if (name.startsWith('"')) {
    if (!name.endsWith('"') || name.length < 2) return undefined;
    return { displayName: name.slice(1, -1).replace(/\\(.)/g, '$1'), uri };
  }
  return { displayName: name, uri };
}

/** Formats an address, quoting the display name (RFC 3862 section 3.3.1 Formal-name). */
export function formatCpimAddress(a: CpimAddress): string {
  if (a.displayName === undefined || a.displayName === '') return `<${a.uri}>`;
  return `"${a.displayName.replace(/[\\"]/g, (c) => `\\${c}`)}" <${a.uri}>`;
}

function readHeaderBlock(
  input: Buffer,
  start: number,
  lim: CpimLimits,
  maxHeaders = lim.maxHeaders,
): { headers: CpimHeader[]; next: number } | ProtocolError {
  const headers: CpimHeader[] = [];
  let pos = start;
  for (;;) {
    const eol = input.indexOf('\r\n', pos, 'latin1');
    if (eol < 0 || eol - start > lim.maxHeaderBytes) return bad('unterminated or oversized CPIM header block');
    if (eol === pos) return { headers, next: eol + 2 };
    if (headers.length >= maxHeaders) return bad('too many CPIM headers');
    const line = input.toString('utf8', pos, eol);
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!NAME.test(name)) return bad('malformed CPIM header line');
    // RFC 3862 section 3.1: Header-name ":" *(";" Parameter) SP Header-value.
    const value = line[colon + 1] === ' ' ? line.slice(colon + 2) : line.slice(colon + 1);
    headers.push({ name, value });
    pos = eol + 2;
  }
}

function bad(m: string): ProtocolError {
  return new ProtocolError('CPIM_MALFORMED', 400, m);
}
