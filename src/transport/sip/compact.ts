/**
 * Header name tables: the compact forms of RFC 3261 section 7.3.3 and later RFCs, and the
 * conventional spelling used when a header is written on the wire.
 */

/** Compact form -> canonical (lower-case long) name. */
export const compactHeaderNames: Readonly<Record<string, string>> = Object.freeze({
  i: 'call-id', // RFC 3261
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event', // RFC 6665
  u: 'allow-events',
  r: 'refer-to', // RFC 3515
  b: 'referred-by', // RFC 3892
  x: 'session-expires', // RFC 4028
  y: 'identity', // RFC 8224
  a: 'accept-contact', // RFC 3841
  j: 'reject-contact',
  d: 'request-disposition',
});

/** Canonical names whose usual spelling is not plain Title-Case of the parts. */
const wireSpellings: Readonly<Record<string, string>> = Object.freeze({
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
  'p-asserted-identity': 'P-Asserted-Identity',
  'p-preferred-identity': 'P-Preferred-Identity',
});

/**
 * How a canonical header name is spelled on the wire (`call-id` -> `Call-ID`,
 * `x-foo-bar` -> `X-Foo-Bar`). Header names are case-insensitive (RFC 3261 7.3.1); this is
 * only for readability of what Parley sends.
 */
export function wireHeaderName(canonical: string): string {
  const known = wireSpellings[canonical];
  if (known !== undefined) return known;
  return canonical
    .split('-')
    .map((p) => (p.length === 0 ? p : p[0].toUpperCase() + p.slice(1)))
    .join('-');
}
