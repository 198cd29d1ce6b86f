/** The chat-room application (issue 5). */
export { ROOM_KIND } from '../../actors/roomKind.js';
export { createRoomApplication, type RoomAppOptions, type RoomApplication, type RoomDispatcher } from './application.js';
export { RoomExecutor, ROOM_ALLOW } from './executor.js';
export { RoomHistory, type StoredRoomMessage } from './history.js';
export { RoomOutbound } from './outbound.js';
export { StreamRelay } from './stream.js';
export { Relay, defaultRelayLimits, noticeCpim, relayedCpim, type RelayLimits } from './relay.js';
export { APP_HEADER, CHATROOM_CAPABILITIES, readJoin, requesterOf, roomOf } from './request.js';
