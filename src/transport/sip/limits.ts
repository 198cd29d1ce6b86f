/**
 * Size and count limits of the SIP codec. Every buffer the codec grows is checked against
 * one of these before the bytes are kept (STYLE.md rule 6: limits before buffering).
 */
export interface SipLimits {
  /**
   * Largest start line + header section, in bytes (and the largest datagram's header part).
   * Default 65535: the largest UDP payload, so nothing legal over UDP is refused.
   */
  readonly maxMessageBytes: number;
  /** Largest number of header lines (before comma-lists are split). Default 100. */
  readonly maxHeaders: number;
  /** Largest header line after unfolding, in bytes. Default 8192. */
  readonly maxHeaderLineBytes: number;
  /** Largest body (declared Content-Length or datagram remainder), in bytes. Default 1 MiB. */
  readonly maxBodyBytes: number;
}

/** The documented defaults; a transport may pass stricter ones. */
export const defaultSipLimits: SipLimits = Object.freeze({
  maxMessageBytes: 65535,
  maxHeaders: 100,
  maxHeaderLineBytes: 8192,
  maxBodyBytes: 1024 * 1024,
});
