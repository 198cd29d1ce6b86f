import { ProtocolError } from '../errors.js';
import { escapeXml, parseXmlSafely, type XmlNode } from './xml.js';

/** RFC 3994 content type. */
export const IS_COMPOSING_CONTENT_TYPE = 'application/im-iscomposing+xml';
const NS = 'urn:ietf:params:xml:ns:im-iscomposing';

/** An RFC 3994 is-composing indication. */
export interface IsComposing {
  readonly state: 'active' | 'idle';
  /** RFC 3994 `lastactive` (ISO 8601), when present. */
  readonly lastActive?: string;
  /** Content type being composed, e.g. text/plain. */
  readonly contentType?: string;
  /** Seconds until the sender refreshes an active state (section 3.2); only with active. */
  readonly refresh?: number;
}

/** Parses an `application/im-iscomposing+xml` body; 400 when malformed (section 5 schema). */
export function parseIsComposing(body: string | Buffer): IsComposing | ProtocolError {
  const doc = parseXmlSafely(body, { maxBytes: 4096, maxDepth: 4 });
  if (doc instanceof ProtocolError) return doc;
  const root = doc.isComposing as XmlNode | undefined;
  if (root === undefined || typeof root !== 'object') return bad('no isComposing element');
  const state = text(root.state);
  if (state !== 'active' && state !== 'idle') return bad('state must be active or idle');
  const out: { -readonly [K in keyof IsComposing]: IsComposing[K] } = { state };
  const lastActive = text(root.lastactive);
  if (lastActive !== undefined) {
    if (Number.isNaN(Date.parse(lastActive))) return bad('bad lastactive');
    out.lastActive = lastActive;
  }
  const ct = text(root.contenttype);
  if (ct !== undefined) out.contentType = ct;
  const refresh = text(root.refresh);
  if (refresh !== undefined) {
    if (!/^[0-9]{1,9}$/.test(refresh) || Number(refresh) === 0) return bad('bad refresh');
    out.refresh = Number(refresh);
  }
  return out;
}

/** Builds the XML body of an is-composing indication (RFC 3994 section 7 example layout). */
export function buildIsComposing(s: IsComposing): string {
  let x = `<?xml version="1.0" encoding="UTF-8"?>\n<isComposing xmlns="${NS}">\n  <state>${s.state}</state>\n`;
  if (s.lastActive !== undefined) x += `  <lastactive>${escapeXml(s.lastActive)}</lastactive>\n`;
  if (s.contentType !== undefined) x += `  <contenttype>${escapeXml(s.contentType)}</contenttype>\n`;
  if (s.refresh !== undefined) x += `  <refresh>${Math.floor(s.refresh)}</refresh>\n`;
  return `${x}</isComposing>\n`;
}

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as XmlNode)['#text'] === 'string') return (v as XmlNode)['#text'] as string;
  return undefined;
}

function bad(m: string): ProtocolError {
  return new ProtocolError('ISCOMPOSING_MALFORMED', 400, m);
}
