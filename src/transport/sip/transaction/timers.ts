/**
 * SIP transaction timer values (RFC 3261 section 17 and table 4 of appendix A).
 * Base values are configurable so that end-to-end tests can run with a short T1; every
 * derived timer is computed here, in one place.
 */

/** The three base timers, in milliseconds. */
export interface SipTimerConfig {
  /** RTT estimate; default 500 ms (RFC 3261 17.1.1.1). */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses; default 4 s. */
  readonly t2: number;
  /** Maximum time a message stays in the network; default 5 s. */
  readonly t4: number;
}

/** RFC 3261 defaults: T1 = 500 ms, T2 = 4 s, T4 = 5 s. */
export const defaultSipTimers: SipTimerConfig = Object.freeze({ t1: 500, t2: 4000, t4: 5000 });

/** Timer B / F / H / J / L / M: 64*T1 (RFC 3261 17.1.1.2, 17.1.2.2, 17.2.1; RFC 6026). */
export function timeout64(t: SipTimerConfig): number {
  return 64 * t.t1;
}

/**
 * Timer D: wait time for response retransmits in the client INVITE Completed state,
 * at least 32 s over an unreliable transport, zero over a reliable one (17.1.1.2).
 */
export function timerD(t: SipTimerConfig, reliable: boolean): number {
  return reliable ? 0 : Math.max(32_000, 64 * t.t1);
}

/** Timer I (server INVITE Confirmed) and K (client non-INVITE Completed): T4, zero if reliable. */
export function timerT4OrZero(t: SipTimerConfig, reliable: boolean): number {
  return reliable ? 0 : t.t4;
}

/** Timer J (server non-INVITE Completed): 64*T1 unreliable, zero reliable (17.2.2). */
export function timerJ(t: SipTimerConfig, reliable: boolean): number {
  return reliable ? 0 : 64 * t.t1;
}

/** Next retransmit interval for non-INVITE requests and INVITE final responses: min(2x, T2). */
export function nextInterval(current: number, t: SipTimerConfig): number {
  return Math.min(current * 2, t.t2);
}

/** Checks a timer configuration; returns an error text or undefined. */
export function validateTimers(t: SipTimerConfig): string | undefined {
  for (const k of ['t1', 't2', 't4'] as const) {
    if (!Number.isFinite(t[k]) || t[k] <= 0 || t[k] > 600_000) return `timer ${k} must be in (0, 600000] ms`;
  }
  if (t.t2 < t.t1) return 't2 must be >= t1';
  return undefined;
}
