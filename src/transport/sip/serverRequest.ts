/**
 * The embedded stack's `IncomingRequest`: one received request, its server transaction, and
 * the rule "the first final response wins" (RFC 3261 8.2.6, 17.2).
 */
import type { Logger } from 'pino';
import type { SipRequest, SipResponse } from './message.js';
import type { DialogId } from './dialog.js';
import type { IncomingRequest, RespondOptions, SipEndpoint } from './transport.js';
import { buildResponse } from './serializer.js';
import { getHeader } from './headers.js';
import { parseNameAddr } from './nameAddr.js';
import type { MessageInfo } from './parser.js';

/** The transaction side the request answers through. */
export interface ResponseSink {
  /** Sends through the server transaction; false when the transaction refused it. */
  respond(response: SipResponse): boolean;
}

/** Methods whose 1xx (with tag) / 2xx carry a Contact (RFC 3261 12.1.1, RFC 3311, RFC 6665). */
const NEEDS_CONTACT = new Set(['INVITE', 'SUBSCRIBE', 'REFER', 'UPDATE']);

/** @internal */
export class ServerRequest implements IncomingRequest {
  answered: boolean;
  cancelled = false;
  /**
   * Told after a final response was sent (the stack starts 2xx retransmission, cleans up). An
   * object with a method rather than a callback, so the stack needs no closure per request.
   */
  onFinal: { finalSent(response: SipResponse): void } | undefined;

  constructor(
    readonly request: SipRequest,
    readonly source: SipEndpoint,
    readonly dialogId: DialogId | undefined,
    readonly localTag: string,
    private readonly sink: ResponseSink,
    private readonly contact: string,
    private readonly logger: Logger,
    /** What the parser already parsed from `request`, if known (saves parsing To and CSeq again). */
    readonly parsed?: MessageInfo,
  ) {
    this.answered = request.method === 'ACK';
  }

  respond(status: number, reason?: string, options: RespondOptions = {}): void {
    if (this.request.method === 'ACK') return;
    if (this.answered) {
      this.logger.debug({ status, method: this.request.method, callId: getHeader(this.request, 'call-id') }, 'sip: response after the final one ignored');
      return;
    }
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      this.logger.error({ status }, 'sip: invalid status code from application, sending 500');
      status = 500;
      reason = undefined;
    }
    const hasToTag = this.dialogId !== undefined;
    let headers = options.headers;
    if (status > 100 && status < 300 && NEEDS_CONTACT.has(this.request.method) && !(headers ?? []).some((h) => h.name === 'contact')) {
      headers = [...(headers ?? []), { name: 'contact', value: `<${this.contact}>` }];
    }
    const info = this.parsed;
    let response: SipResponse;
    try {
      response = buildResponse(this.request, status, reason, {
        headers,
        body: options.body === undefined ? undefined : Buffer.from(options.body),
        toTag: hasToTag || status === 100 ? undefined : (options.toTag ?? this.localTag),
        known: info === undefined ? undefined : { cseqMethod: info.cseq.method, toHasTag: Object.hasOwn(info.to.params, 'tag') },
      });
    } catch (err) {
      this.logger.error({ err }, 'sip: could not build response, sending 500');
      response = buildResponse(this.request, 500, undefined, { toTag: hasToTag ? undefined : this.localTag });
      status = 500;
    }
    if (status >= 200) this.answered = true;
    if (this.sink.respond(response) && status >= 200) this.onFinal?.finalSent(response);
  }

  /** The To tag actually used (the request's own when in-dialog). */
  get toTag(): string {
    if (this.dialogId) return this.dialogId.localTag;
    return this.localTag;
  }
}

/** The To tag of a message, if any. */
export function toTagOf(msg: { headers: SipRequest['headers'] }): string | undefined {
  const v = getHeader(msg, 'to');
  const t = v ? parseNameAddr(v)?.params.tag : undefined;
  return typeof t === 'string' ? t : undefined;
}
