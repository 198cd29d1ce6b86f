/**
 * Size and count limits of the MSRP layer. Every limit is checked before the bytes it
 * guards are buffered (STYLE.md rule 6). Defaults are documented per field.
 */
export interface MsrpLimits {
  /** Largest body of one chunk (one SEND transaction). Default 1 MiB; beyond -> 413. */
  readonly maxChunkBodyBytes: number;
  /** Largest reassembled message (sum of its chunks, or declared total). Default 10 MiB; beyond -> 413. */
  readonly maxMessageBytes: number;
  /** Largest start line plus header section of one transaction. Default 16 KiB. */
  readonly maxHeaderBytes: number;
  /** Most header fields in one transaction. Default 64. */
  readonly maxHeaders: number;
  /** Most messages being reassembled at once in one session. Default 16. */
  readonly maxPartialMessages: number;
  /** Most outgoing transactions awaiting a response on one connection. Default 4096. */
  readonly maxPendingTransactions: number;
}

/** The documented defaults. */
export const DEFAULT_MSRP_LIMITS: MsrpLimits = Object.freeze({
  maxChunkBodyBytes: 1024 * 1024,
  maxMessageBytes: 10 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 64,
  maxPartialMessages: 16,
  maxPendingTransactions: 4096,
});

/** Fills the fields not given with the defaults. */
export function resolveMsrpLimits(partial?: Partial<MsrpLimits>): MsrpLimits {
  return Object.freeze({ ...DEFAULT_MSRP_LIMITS, ...(partial ?? {}) });
}
