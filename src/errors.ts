/**
 * The error family every codec and transport throws or returns: a stable `code` for tests
 * and logs, and the protocol `status` that the transport turns into the reply (SIP 400/413/513,
 * MSRP 400/413/481...). Anything that is not a ProtocolError is a bug and becomes a 500.
 */
export class ProtocolError extends Error {
  constructor(
    /** Stable identifier, e.g. `SIP_BAD_CSEQ`, `MSRP_CHUNK_TOO_LARGE`. */
    readonly code: string,
    /** Status code of the protocol that must answer (e.g. 400); 0 when there is nothing to answer. */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
