/**
 * The SIP codec's public API in one place (pure code, no sockets): parse, frame, serialize,
 * URIs, addresses, headers, multipart bodies. `index.ts` of this folder belongs to the transport.
 */
export { defaultSipLimits, type SipLimits } from './limits.js';
export { parseMessage, parseRequestLine, parseStatusLine, type ParseResult, type PartialMessage, type RequestLine, type StatusLine } from './parser.js';
export { serializeMessage, buildResponse, type BuildResponseOptions } from './serializer.js';
export { reasonPhrase } from '../../formats/sipReasons.js';
export { SipStreamFramer, type FramedItem } from './framing.js';
export { parseUri, formatUri, aorOf, uriScheme } from './uri.js';
export { parseNameAddr, formatNameAddr, formatParams, parseVia, formatVia, parseCSeq, formatCSeq } from './nameAddr.js';
export {
  getHeader, getHeaders, withHeader, addHeader, withoutHeader, canonicalHeaderName, parseHeaderParams, splitHeaderList,
  contentLength, parseDeltaSeconds, parseSipDate, isToken, listHeaders,
} from './headers.js';
export { parseMultipart, buildMultipart, multipartBoundary, type MultipartPart, type MultipartInput, type MultipartLimits } from './multipart.js';
export { compactHeaderNames, wireHeaderName } from './compact.js';
