/**
 * The SIP message model shared by the codec, the transaction layer, dialogs and the
 * applications. Plain data (no classes, no sockets), so a message or a header value can be
 * logged, compared in tests and kept in an actor snapshot.
 *
 * Header names are kept in their canonical long form, lower-cased (`via`, `call-id`,
 * `content-type`; compact forms such as `v`, `i`, `c` are expanded by the parser,
 * RFC 3261 section 7.3.3). Each header line keeps its raw value; multi-value headers
 * (Via, Contact, Route, Record-Route...) are split into one entry per value by the parser so
 * that `headers.filter(h => h.name === 'via')` is the Via list in order.
 */

/** One header field value, in order of appearance. */
export interface SipHeader {
  /** Canonical long name, lower-case: `via`, `call-id`, `content-length`. */
  readonly name: string;
  /** The raw value with folding (LWS) collapsed to single spaces and outer white space trimmed. */
  readonly value: string;
}

export interface SipRequest {
  readonly kind: 'request';
  /** Method token, case-sensitive (RFC 3261 7.1): `INVITE`, `MESSAGE`, `NEWMETHOD`. */
  readonly method: string;
  /** The Request-URI exactly as on the wire. Parse with `parseUri` when needed. */
  readonly uri: string;
  readonly headers: readonly SipHeader[];
  /** Body bytes; its length is what Content-Length counts (bytes, not characters). */
  readonly body: Buffer;
}

export interface SipResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
  readonly headers: readonly SipHeader[];
  readonly body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

/** A parsed SIP, SIPS or tel URI (RFC 3261 19.1, RFC 3966). Escapes are decoded in `user`. */
export interface SipUri {
  readonly scheme: 'sip' | 'sips' | 'tel';
  /** User part (or the telephone number for tel:), unescaped. */
  readonly user?: string;
  readonly password?: string;
  /** Host name, IPv4 address or IPv6 reference with brackets (`[::1]`); empty for tel:. */
  readonly host: string;
  readonly port?: number;
  /** URI parameters (`;transport=tcp`, `;lr` -> `{ lr: null }`); names lower-cased. */
  readonly params: Readonly<Record<string, string | null>>;
  /** URI headers (`?subject=x`), unescaped. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A name-addr or addr-spec with header parameters, as in From, To, Contact, Route,
 * Record-Route, Refer-To, P-Asserted-Identity (RFC 3261 20.10, 25.1).
 */
export interface NameAddr {
  readonly displayName?: string;
  /** The URI as written between `<` and `>` (or the bare addr-spec). */
  readonly uri: string;
  /** Header parameters after the URI (`;tag=abc`, `;expires=60`, `;isfocus`). */
  readonly params: Readonly<Record<string, string | null>>;
}

/** One Via value (RFC 3261 20.42, RFC 3581 rport). */
export interface Via {
  /** `UDP`, `TCP`, `TLS`, `WS`...; upper-case. */
  readonly transport: string;
  readonly host: string;
  readonly port?: number;
  /** `branch`, `received`, `rport` (null when present without value), `maddr`, `ttl`... */
  readonly params: Readonly<Record<string, string | null>>;
}

/** CSeq header (RFC 3261 20.16). */
export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** From, To, Call-ID and CSeq of a message, parsed (the headers every request and response has). */
export interface ParsedHeaders {
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly callId: string;
  readonly cseq: CSeq;
}
