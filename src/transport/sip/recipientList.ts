/**
 * The bodies of an RFC 5366 conference-creating INVITE: a `multipart/mixed` holding the SDP
 * offer and an `application/resource-lists+xml` part with `Content-Disposition:
 * recipient-list`. A plain INVITE (SDP only) gives the SDP and no list. Pure; never throws.
 */
import { ProtocolError } from '../../errors.js';
import { parseResourceLists, RESOURCE_LISTS_CONTENT_TYPE, type ResourceLists, type ResourceListsLimits } from '../../formats/resourceLists.js';
import type { SipRequest } from './message.js';
import { getHeader } from './headers.js';
import { parseMultipart } from './multipart.js';

/** RFC 5366 option tag a UAC may put in Require or Supported for a list INVITE. */
export const RECIPIENT_LIST_INVITE_TAG = 'recipient-list-invite';

/** What the INVITE carries. */
export interface InviteBodies {
  /** The `application/sdp` offer, when present. */
  readonly sdp?: Buffer;
  /** The recipient list, when the INVITE is a list INVITE. */
  readonly recipients?: ResourceLists;
}

function mediaType(v: string | undefined): string {
  return (v ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * Reads the SDP offer and the recipient list (RFC 5366 section 4). A multipart body whose
 * resource-lists part has another disposition is not a recipient list (RFC 5363 requires
 * the disposition), so that part is ignored. A malformed multipart or list gives its
 * ProtocolError (400; 413 over the list limits); more than one recipient-list part is 400.
 */
export function inviteBodies(req: SipRequest, limits: Partial<ResourceListsLimits> = {}): InviteBodies | ProtocolError {
  const contentType = getHeader(req, 'content-type');
  const type = mediaType(contentType);
  if (req.body.length === 0) return {};
  if (type === 'application/sdp') return { sdp: req.body };
  if (type !== 'multipart/mixed') return {};
  const mp = parseMultipart(contentType ?? '', req.body);
  if (mp instanceof ProtocolError) return mp;
  let sdp: Buffer | undefined;
  let recipients: ResourceLists | undefined;
  for (const part of mp.parts) {
    const t = mediaType(getHeader(part, 'content-type'));
    if (t === 'application/sdp' && sdp === undefined) sdp = part.body;
    else if (t === RESOURCE_LISTS_CONTENT_TYPE && mediaType(getHeader(part, 'content-disposition')) === 'recipient-list') {
      if (recipients !== undefined) return new ProtocolError('SIP_TWO_RECIPIENT_LISTS', 400, 'Bad Request - more than one recipient-list');
      const r = parseResourceLists(part.body, limits);
      if (r instanceof ProtocolError) return r;
      recipients = r;
    }
  }
  return { ...(sdp !== undefined ? { sdp } : {}), ...(recipients !== undefined ? { recipients } : {}) };
}
