/**
 * Answering an MSRP chat offer (offline sessions and fetches): a new MSRP session with the
 * RFC 6135 role opposite to an active/passive offer (passive for actpass), the peer path from
 * the offer, and the SDP answer with the negotiated accept-types.
 */
import { buildMsrpAnswer, type MsrpMediaDescription, type NegotiatedTypes } from '../../formats/sdp.js';
import type { MsrpEndpoint } from '../../transport/msrp/endpoint.js';
import type { MsrpSession } from '../../transport/msrp/session.js';
import { ProtocolError } from '../../errors.js';

export function answerOffer(msrp: MsrpEndpoint, offer: MsrpMediaDescription, types: NegotiatedTypes, maxSize: number): { session: MsrpSession; sdp: string } {
  const session = msrp.createSession({ setup: offer.setup === 'passive' ? 'active' : 'passive', acceptTypes: ['*'] });
  const bad = session.setRemote({ path: offer.path, maxSize: offer.maxSize });
  if (bad) {
    session.close('bad-path');
    throw new ProtocolError('OFFLINE_BAD_PATH', 400, `Bad Request - ${bad.message}`);
  }
  const sdp = buildMsrpAnswer(offer, {
    ...session.sdpLocal,
    acceptTypes: types.acceptTypes,
    acceptWrappedTypes: types.acceptWrappedTypes,
    maxSize,
    setup: session.setup,
  });
  return { session, sdp };
}
