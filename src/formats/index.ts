export * from './cpim.js';
export * from './imdn.js';
export * from './isComposing.js';
export * from './sdp.js';
export * from './xml.js';
export * from './conferenceInfo.js';
