/**
 * The interface Parley's applications (the supervisor) use to speak SIP. Two implementations
 * are planned: the embedded stack (`stack.ts`) and a drachtio-srf adapter. Everything here is
 * transaction-level: the transport owns transactions, retransmissions and connections; the
 * applications own dialogs, whose state is plain data (`DialogState`) kept in actor snapshots.
 *
 * In-dialog requests: the transport does not keep dialogs, so it cannot know whether a
 * request's dialog exists. It delivers every request that has a To tag with its `dialogId`;
 * whoever sits on `onRequest` answers 481 when it does not know the dialog. An implementation
 * may take a `dialogExists` hook (the embedded stack does) to answer 481 before delivery.
 */
import type { ParsedHeaders, SipHeader, SipRequest, SipResponse } from './message.js';
import type { DialogId, DialogState } from './dialog.js';

/** Transport protocols of a SIP hop. */
export type SipTransportProtocol = 'udp' | 'tcp' | 'tls';

/** A network peer: address, port and transport. */
export interface SipEndpoint {
  readonly host: string;
  readonly port: number;
  readonly transport: SipTransportProtocol;
}

/** Extra content of a response. */
export interface RespondOptions {
  /** Headers added to the response (Contact, Content-Type, Allow, Expires...). */
  readonly headers?: readonly SipHeader[];
  readonly body?: Buffer | string;
  /**
   * To tag for a request without one; by default `IncomingRequest.localTag`. Ignored when the
   * request already carries a To tag (in-dialog).
   */
  readonly toTag?: string;
}

/** A request received by the transport and not yet (finally) answered. */
export interface IncomingRequest {
  readonly request: SipRequest;
  /** Where the request came from (after RFC 3581 `received`/`rport` handling). */
  readonly source: SipEndpoint;
  /** Set when the request carries a To tag: Call-ID + local tag (To) + remote tag (From). */
  readonly dialogId?: DialogId;
  /**
   * The To tag this transport puts on responses to a request without one, known in advance so
   * that the application can create its dialog state (`createUasDialog`) before answering.
   */
  readonly localTag: string;
  /** True after the first final response (or for ACK, which is never answered). */
  readonly answered: boolean;
  /** True when a CANCEL arrived for this INVITE (the transport already answered 487). */
  readonly cancelled: boolean;
  /**
   * From, To, Call-ID and CSeq as the transport parsed them to check the request, when it did
   * (the embedded stack does): the application need not parse them again.
   */
  readonly parsed?: ParsedHeaders;
  /**
   * Sends a response. Provisional ones may repeat; the first final response wins and later
   * calls are ignored (logged). A no-op for ACK. For a 2xx to INVITE the transport retransmits
   * until the ACK comes (RFC 3261 13.3.1.4) and reports `onAckTimeout` otherwise.
   */
  respond(status: number, reason?: string, options?: RespondOptions): void;
}

/** A request to send: a complete message or its parts (the transport fills the rest). */
export type OutgoingRequest =
  | SipRequest
  | { readonly method: string; readonly uri: string; readonly headers?: readonly SipHeader[]; readonly body?: Buffer | string };

/** Options of `sendRequest`. */
export interface SendRequestOptions {
  /**
   * The dialog the request belongs to (built with `buildInDialogRequest`, which returns the
   * updated state with the new CSeq). Used for the connection choice; the request is not
   * changed.
   */
  readonly dialog?: DialogState;
  /** Send here instead of resolving the first Route / Request-URI (RFC 3261 8.1.2). */
  readonly destination?: SipEndpoint;
  /** Each provisional (1xx) response. */
  readonly onProvisional?: (response: SipResponse) => void;
  /** For INVITE: aborting sends CANCEL (RFC 3261 9.1); the promise then resolves with 487. */
  readonly signal?: AbortSignal;
}

/** Told when a UAS 2xx to INVITE got no ACK within 64*T1 (RFC 3261 13.3.1.4). */
export interface AckTimeout {
  readonly dialogId: DialogId;
  readonly request: SipRequest;
  readonly response: SipResponse;
}

/** The SIP service the applications use. */
export interface SipTransport {
  /**
   * The one request handler (a second call replaces the first). Called for every request the
   * transport does not answer itself (retransmissions, CANCEL, OPTIONS, untrusted peers,
   * malformed requests, unsupported methods and extensions are handled below it), including
   * ACK for a 2xx (method ACK, with its dialogId). A handler that throws gets a 500 sent.
   */
  onRequest(handler: (request: IncomingRequest) => void): void;
  /** Told when an INVITE was cancelled (the 487 is already sent). */
  onCancel(handler: (request: IncomingRequest) => void): void;
  /** Told when a 2xx to INVITE was never acknowledged. */
  onAckTimeout(handler: (event: AckTimeout) => void): void;
  /**
   * Sends a request in a client transaction; resolves with the final response: 408 is
   * synthesized on timeout, 503 on a transport failure (RFC 3261 8.1.3.1). Never rejects for
   * protocol reasons; rejects only for an invalid request (ProtocolError) or after close().
   * For INVITE, resolves with the first 2xx; the caller must `sendAck`.
   */
  sendRequest(request: OutgoingRequest, options?: SendRequestOptions): Promise<SipResponse>;
  /** Sends the ACK for a 2xx to INVITE (RFC 3261 13.2.2.4) on `dialog` (CSeq number of the INVITE). */
  sendAck(dialog: DialogState, response: SipResponse, options?: { headers?: readonly SipHeader[]; body?: Buffer | string }): void;
  /** The Contact URI of this transport for the given protocol (for dialogs and REGISTER). */
  contactUri(transport?: SipTransportProtocol): string;
  /** Stops listening, ends transactions and closes connections. */
  close(): Promise<void>;
}
