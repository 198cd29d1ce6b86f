import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ProtocolError } from '../errors.js';

/**
 * Limits of the shared XML helper. XML bodies reach Parley from untrusted peers
 * (is-composing, conference-info, resource-lists...), so size and depth are bounded and no
 * entity may be declared (DESIGN.md: "XML is parsed without external entities").
 */
export interface XmlLimits {
  /** Largest document in bytes (UTF-8). Default 64 KiB. */
  readonly maxBytes: number;
  /** Deepest element nesting. Default 32. */
  readonly maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({ maxBytes: 64 * 1024, maxDepth: 32 });

/** Options of parseXmlSafely. */
export interface SafeXmlOptions extends Partial<XmlLimits> {
  /** Element names (without namespace prefix) that are always arrays. */
  readonly arrays?: readonly string[];
}

/** A parsed element: attributes as `@_name`, text as `#text` (or a plain string for text-only elements). */
export type XmlNode = { [key: string]: unknown };

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Decodes the five predefined XML entities and numeric character references. Entity
 * processing in fast-xml-parser is off, so this is the only expansion that ever happens.
 */
export function decodeXmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (m, e: string) => {
    if (e[0] !== '#') return PREDEFINED[e];
    const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}

/** Escapes text for element content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&${c === '<' ? 'lt' : c === '>' ? 'gt' : c === '&' ? 'amp' : c === '"' ? 'quot' : 'apos'};`);
}

/**
 * Parses an XML document with namespace prefixes removed, entity processing off, any
 * DOCTYPE refused, and size/depth limits. Never throws: malformed input is a
 * ProtocolError with status 400 (413 when too large).
 */
export function parseXmlSafely(input: string | Buffer, opts: SafeXmlOptions = {}): XmlNode | ProtocolError {
  const maxBytes = opts.maxBytes ?? DEFAULT_XML_LIMITS.maxBytes;
  const maxDepth = opts.maxDepth ?? DEFAULT_XML_LIMITS.maxDepth;
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) return new ProtocolError('XML_TOO_LARGE', 413, `XML document over ${maxBytes} bytes`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  // A DOCTYPE is the only way to declare entities (billion laughs, external entities).
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) return new ProtocolError('XML_DOCTYPE', 400, 'DOCTYPE is not accepted');
  if (depthOf(text) > maxDepth) return new ProtocolError('XML_TOO_DEEP', 400, `XML nesting over ${maxDepth}`);
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) return new ProtocolError('XML_MALFORMED', 400, `malformed XML: ${valid.err.msg}`);
    const arrays = new Set(opts.arrays ?? []);
    const parser = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      removeNSPrefix: true,
      parseTagValue: false,
      parseAttributeValue: false,
      trimValues: true,
      processEntities: false,
      htmlEntities: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      maxNestedTags: maxDepth,
      isArray: (name) => arrays.has(name),
      tagValueProcessor: (_n, v) => decodeXmlText(v),
      attributeValueProcessor: (_n, v) => decodeXmlText(v),
    });
    return parser.parse(text) as XmlNode;
  } catch (e) {
    return new ProtocolError('XML_MALFORMED', 400, `malformed XML: ${(e as Error).message}`);
  }
}

/** Element nesting depth by a tag scan (conservative: counts before parsing). */
function depthOf(text: string): number {
  let depth = 0;
  let max = 0;
  const re = /<(\/?)[^\s>/!?][^>]*?(\/?)>/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] === '/') depth--;
    else if (m[2] !== '/') {
      depth++;
      if (depth > max) max = depth;
    }
  }
  return max;
}
