/**
 * RFC 4826 resource lists (`application/resource-lists+xml`) as carried in an RFC 5366
 * conference-creating INVITE (`Content-Disposition: recipient-list`): the focus reads the
 * entries and REFERs each listed user to the room. Nested `list` elements are flattened in
 * document order; `entry-ref` and `external` (XCAP references, RFC 4826 3.2) are not
 * dereferenced: the focus has no XCAP client, so they are reported and skipped.
 */
import { ProtocolError } from '../errors.js';
import { escapeXml, parseXmlSafely, type XmlNode } from './xml.js';

/** RFC 4826 content type. */
export const RESOURCE_LISTS_CONTENT_TYPE = 'application/resource-lists+xml';
const NS = 'urn:ietf:params:xml:ns:resource-lists';
/** RFC 5364 copy control namespace (`cp:copyControl="to|cc|bcc"`). */
const CP_NS = 'urn:ietf:params:xml:ns:copycontrol';

/** One listed resource. */
export interface ResourceListEntry {
  readonly uri: string;
  /** The entry's `display-name` element. */
  readonly displayName?: string;
  /** RFC 5364 copy control: whether the URI is visible to the other recipients. */
  readonly copyControl?: 'to' | 'cc' | 'bcc';
  /** RFC 5364 `anonymize` attribute. */
  readonly anonymize?: boolean;
}

/** What a parse gives: the entries and how many references were skipped. */
export interface ResourceLists {
  readonly entries: readonly ResourceListEntry[];
  /** Count of `entry-ref` and `external` elements, not followed. */
  readonly skippedReferences: number;
}

/** Parser limits. */
export interface ResourceListsLimits {
  /** Largest document. Default 32 KiB. */
  readonly maxBytes: number;
  /**
   * Most entries (after removing duplicates). Default 100: each one becomes a REFER, so this
   * bounds the work one INVITE can cause. Over it: 413.
   */
  readonly maxEntries: number;
  /** Deepest list nesting. Default 4. */
  readonly maxListDepth: number;
  /** Longest URI. Default 512. */
  readonly maxUriBytes: number;
}

export const DEFAULT_RESOURCE_LISTS_LIMITS: ResourceListsLimits = Object.freeze({ maxBytes: 32 * 1024, maxEntries: 100, maxListDepth: 4, maxUriBytes: 512 });

function bad(why: string): ProtocolError {
  return new ProtocolError('RESOURCE_LISTS_MALFORMED', 400, `resource-lists: ${why}`);
}

function tooMany(max: number): ProtocolError {
  return new ProtocolError('RESOURCE_LISTS_TOO_MANY', 413, `resource-lists: more than ${max} entries`);
}

/** A URI fit to send a request to: a scheme, no white space, quotes or angle brackets. */
function uriOk(uri: string, max: number): boolean {
  return uri.length <= max && /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"]+$/.test(uri);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as XmlNode)['#text'] === 'string') return (v as XmlNode)['#text'] as string;
  return undefined;
}

/**
 * Parses the document through the safe XML parser. Duplicate URIs keep their first entry
 * (RFC 5366 section 4: a recipient gets one invitation however often it is listed). Malformed
 * -> 400, over a limit -> 413; never throws.
 */
export function parseResourceLists(body: string | Buffer, limits: Partial<ResourceListsLimits> = {}): ResourceLists | ProtocolError {
  const l: ResourceListsLimits = { ...DEFAULT_RESOURCE_LISTS_LIMITS, ...limits };
  const doc = parseXmlSafely(body, { maxBytes: l.maxBytes, maxDepth: l.maxListDepth + 4, arrays: ['list', 'entry', 'entry-ref', 'external'] });
  if (doc instanceof ProtocolError) return doc;
  const root = doc['resource-lists'];
  if (root === undefined || root === null || typeof root !== 'object' || Array.isArray(root)) {
    if (root === '') return { entries: [], skippedReferences: 0 };
    return bad('no resource-lists element');
  }
  const entries: ResourceListEntry[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  const walk = (list: XmlNode, depth: number): ProtocolError | undefined => {
    if (depth > l.maxListDepth) return bad(`lists nested deeper than ${l.maxListDepth}`);
    skipped += asArray(list['entry-ref']).length + asArray(list.external).length;
    for (const e of asArray(list.entry)) {
      if (e === null || typeof e !== 'object') return bad('entry without uri');
      const n = e as XmlNode;
      const uri = n['@_uri'];
      if (typeof uri !== 'string' || !uriOk(uri, l.maxUriBytes)) return bad('entry without a usable uri');
      if (seen.has(uri)) continue;
      if (entries.length >= l.maxEntries) return tooMany(l.maxEntries);
      seen.add(uri);
      const out: { -readonly [K in keyof ResourceListEntry]: ResourceListEntry[K] } = { uri };
      const dn = text(n['display-name']);
      if (dn !== undefined) out.displayName = dn;
      const cc = n['@_copyControl'];
      if (cc === 'to' || cc === 'cc' || cc === 'bcc') out.copyControl = cc;
      else if (cc !== undefined) return bad('bad copyControl');
      const an = n['@_anonymize'];
      if (an === 'true' || an === '1') out.anonymize = true;
      else if (an === 'false' || an === '0') out.anonymize = false;
      else if (an !== undefined) return bad('bad anonymize');
      entries.push(out);
    }
    for (const sub of asArray(list.list)) {
      if (sub === '') continue; // an empty <list/>
      if (sub === null || typeof sub !== 'object') return bad('malformed list');
      const err = walk(sub as XmlNode, depth + 1);
      if (err !== undefined) return err;
    }
    return undefined;
  };
  const err = walk(root as XmlNode, 0);
  if (err !== undefined) return err;
  return { entries, skippedReferences: skipped };
}

/**
 * Writes one flat list (RFC 4826 3.2 layout, RFC 5366 section 5 example), with the copy
 * control namespace when an entry uses it. Every value is escaped.
 */
export function buildResourceLists(entries: readonly ResourceListEntry[]): string {
  const cp = entries.some((e) => e.copyControl !== undefined || e.anonymize !== undefined);
  let x = `<?xml version="1.0" encoding="UTF-8"?>\n<resource-lists xmlns="${NS}"${cp ? ` xmlns:cp="${CP_NS}"` : ''}>\n  <list>\n`;
  for (const e of entries) {
    let a = ` uri="${escapeXml(e.uri)}"`;
    if (e.copyControl !== undefined) a += ` cp:copyControl="${e.copyControl}"`;
    if (e.anonymize !== undefined) a += ` cp:anonymize="${e.anonymize}"`;
    x += e.displayName === undefined ? `    <entry${a}/>\n` : `    <entry${a}>\n      <display-name>${escapeXml(e.displayName)}</display-name>\n    </entry>\n`;
  }
  return `${x}  </list>\n</resource-lists>\n`;
}
