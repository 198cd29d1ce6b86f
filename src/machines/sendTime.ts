/**
 * Reminder send times: the time a stored MESSAGE is to be delivered, from a header such as
 * `X-Parley-Send-At`. Two forms are accepted:
 * - RFC 3339 (`2026-11-22T10:00:00Z`, `2026-11-22T11:00:00+01:00`, fractional seconds allowed);
 *   the offset is required, so the time is never ambiguous;
 * - msilo's `YYYYMMDDHHMMSS` (its `snd_time_avp`), read as UTC (msilo reads it in the server's
 *   local time zone; a Parley server's zone is not the user's either, so UTC is the one rule).
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;
const MSILO = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

function valid(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 60) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** The send time in ms since the epoch, or undefined when `value` is neither form or not a real date. */
export function parseSendTime(value: string): number | undefined {
  const v = value.trim();
  if (v.length > 40) return undefined;
  let m = MSILO.exec(v);
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
    return valid(y, mo, d, h, mi, s) ? Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59)) : undefined;
  }
  m = RFC3339.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (!valid(y, mo, d, h, mi, s)) return undefined;
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const zone = m[8];
  let offset = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offset = sign * (oh * 60 + om) * 60_000;
  }
  return Date.UTC(y, mo - 1, d, h, mi, Math.min(s, 59), ms) - offset;
}
