/**
 * String helpers about V8's string representations. A substring of 13 or more characters is a
 * slice that keeps its whole parent alive, and a concatenation keeps its parts: a short key cut
 * from a received message would hold the message's text for as long as the key lives.
 */

/**
 * Makes V8 flatten `s` in place if it is a concatenation (ToNumber flattens its argument: the
 * flatstr idiom), so it no longer references the strings it was built from. Returns `s`.
 */
export function flattenInPlace(s: string): string {
  // Kept in a module variable: an unused result could be optimized away with the flattening.
  sink = (s as unknown as number) | 0;
  return s;
}

let sink = 0;

/** The first `n` characters of `s` as a string of their own (not a slice of `s`). */
export function detachedPrefix(s: string, n: number): string {
  return flattenInPlace(`${s.slice(0, n)}\u2026`);
}
