/**
 * Where to send (pure): requests by their first Route or Request-URI (RFC 3261 8.1.2, with
 * RFC 3263 reduced to "no DNS SRV/NAPTR": transport from `;transport=` or sips:, port from the
 * URI or the default), responses by their top Via (18.2.2 with RFC 3581 `rport`).
 */
import type { SipRequest, Via } from './message.js';
import type { SipEndpoint, SipTransportProtocol } from './transport.js';
import { getHeader } from './headers.js';
import { parseNameAddr } from './nameAddr.js';
import { parseUri } from './uri.js';

/** Default port of a transport (RFC 3261 19.1.2). */
export function defaultPort(t: SipTransportProtocol): number {
  return t === 'tls' ? 5061 : 5060;
}

/** Endpoint of a SIP URI, or undefined for tel: and garbage. */
export function uriEndpoint(text: string): SipEndpoint | undefined {
  const u = parseUri(text);
  if (!u || u.scheme === 'tel') return undefined;
  const tp = u.params.transport?.toLowerCase();
  const transport: SipTransportProtocol = u.scheme === 'sips' || tp === 'tls' ? 'tls' : tp === 'tcp' ? 'tcp' : 'udp';
  const maddr = u.params.maddr;
  const host = typeof maddr === 'string' && maddr.length > 0 ? maddr : u.host;
  return { host, port: u.port ?? defaultPort(transport), transport };
}

/** Next hop of a request: the first Route when present (loose or strict), else the Request-URI. */
export function requestDestination(req: SipRequest): SipEndpoint | undefined {
  const route = getHeader(req, 'route');
  if (route !== undefined) {
    const na = parseNameAddr(route);
    return na ? uriEndpoint(na.uri) : undefined;
  }
  return uriEndpoint(req.uri);
}

/**
 * Adds `received` when the source address differs from the sent-by host, and fills a valueless
 * `rport` with the source port (RFC 3261 18.2.1, RFC 3581 4). Returns the same object when
 * nothing changes.
 */
export function stampVia(via: Via, sourceHost: string, sourcePort: number): Via {
  const wantsRport = 'rport' in via.params && via.params.rport === null;
  const differs = stripBrackets(via.host).toLowerCase() !== sourceHost.toLowerCase();
  if (!wantsRport && !differs) return via;
  // Copied key by key: object spread cost about 1 µs here, on every request with rport.
  const params = copyParams(via.params);
  if (differs || wantsRport) setOwn(params, 'received', sourceHost);
  if (wantsRport) setOwn(params, 'rport', String(sourcePort));
  const out: { -readonly [K in keyof Via]: Via[K] } = { transport: via.transport, host: via.host, params };
  if ('port' in via) out.port = via.port;
  return out;
}

/** A copy of a parameter record, same keys in the same order (`__proto__` included). */
function copyParams(src: Readonly<Record<string, string | null>>): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const keys = Object.keys(src);
  for (let i = 0; i < keys.length; i++) setOwn(out, keys[i], src[keys[i]]);
  return out;
}

function setOwn(obj: Record<string, string | null>, name: string, value: string | null): void {
  if (name === '__proto__') Object.defineProperty(obj, name, { value, enumerable: true, writable: true, configurable: true });
  else obj[name] = value;
}

/**
 * Where a response goes over UDP (18.2.2, RFC 3581 4): `received` (or sent-by) and `rport`
 * (or the sent-by port, default 5060). maddr is not honoured (multicast is out of scope).
 */
export function responseDestination(via: Via): { host: string; port: number } {
  const received = via.params.received;
  const host = typeof received === 'string' && received.length > 0 ? received : stripBrackets(via.host);
  const rport = via.params.rport;
  const port = typeof rport === 'string' && /^\d{1,5}$/.test(rport) ? Number(rport) : (via.port ?? defaultPort(via.transport === 'TLS' ? 'tls' : 'udp'));
  return { host, port };
}

function stripBrackets(h: string): string {
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}
