/**
 * Trusted peers (DESIGN.md, Security: "SIP requests are taken only from trusted peers (the
 * proxy) unless configured otherwise"). A list of addresses and CIDR networks, IPv4 and IPv6;
 * an IPv4-mapped IPv6 source (`::ffff:10.0.0.1`) matches the IPv4 entries.
 */
import { isIPv4, isIPv6 } from 'node:net';

interface Net {
  readonly v6: boolean;
  readonly addr: bigint;
  readonly bits: number;
}

/** A parsed trust list; empty means "trust everyone". */
export interface TrustList {
  readonly nets: readonly Net[];
}

/** Most entries a list may have. */
export const MAX_TRUST_ENTRIES = 1024;

function v4ToBig(a: string): bigint {
  return a.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function v6ToBig(a: string): bigint {
  let s = a;
  // An embedded dotted IPv4 tail (RFC 4291 2.2 form 3) becomes two hex groups.
  const dot = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dot) {
    const v4 = v4ToBig(dot[1]);
    s = s.slice(0, dot.index) + (v4 >> 16n).toString(16) + ':' + (v4 & 0xffffn).toString(16);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((x) => BigInt(parseInt(x, 16))));
  const dbl = s.indexOf('::');
  const groups =
    dbl < 0
      ? parse(s)
      : (() => {
          const h = parse(s.slice(0, dbl));
          const r = parse(s.slice(dbl + 2));
          return [...h, ...Array<bigint>(8 - h.length - r.length).fill(0n), ...r];
        })();
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** An address normalized to `{v6, value}`; IPv4-mapped IPv6 becomes IPv4. Undefined if not an IP. */
function toAddr(text: string): { v6: boolean; value: bigint } | undefined {
  let a = text.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (isIPv4(a)) return { v6: false, value: v4ToBig(a) };
  if (!isIPv6(a)) return undefined;
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (m) return { v6: false, value: v4ToBig(m[1]) };
  return { v6: true, value: v6ToBig(a) };
}

/**
 * Parses entries such as `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`, `::1`. Throws an Error
 * naming the first bad entry (configuration errors are fatal at start-up).
 */
export function parseTrustList(entries: readonly string[]): TrustList {
  if (entries.length > MAX_TRUST_ENTRIES) throw new Error(`trustedPeers: more than ${MAX_TRUST_ENTRIES} entries`);
  const nets: Net[] = [];
  for (const e of entries) {
    const slash = e.indexOf('/');
    const addr = toAddr(slash < 0 ? e : e.slice(0, slash));
    if (!addr) throw new Error(`trustedPeers: not an IP address or network: ${JSON.stringify(e)}`);
    const max = addr.v6 ? 128 : 32;
    let bits = max;
    if (slash >= 0) {
      const t = e.slice(slash + 1).trim();
      if (!/^\d{1,3}$/.test(t) || Number(t) > max) throw new Error(`trustedPeers: bad prefix length in ${JSON.stringify(e)}`);
      bits = Number(t);
      // A mapped IPv6 network (::ffff:10.0.0.0/104) is the IPv4 network /8.
      if (!addr.v6 && slash >= 0 && e.includes(':')) bits = Math.max(0, bits - 96);
    }
    nets.push({ v6: addr.v6, addr: mask(addr.value, bits, addr.v6 ? 128 : 32), bits });
  }
  return { nets };
}

function mask(value: bigint, bits: number, width: number): bigint {
  if (bits === 0) return 0n;
  const m = ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return value & m;
}

/** True when the list is empty or `address` falls in one of its networks. */
export function isTrusted(list: TrustList, address: string): boolean {
  if (list.nets.length === 0) return true;
  const a = toAddr(address);
  if (!a) return false;
  for (const n of list.nets) {
    if (n.v6 === a.v6 && mask(a.value, n.bits, a.v6 ? 128 : 32) === n.addr) return true;
  }
  return false;
}
