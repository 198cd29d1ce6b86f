/**
 * The admin API's application side: room and mailbox administration over the supervisor,
 * and their HTTP routes. It lives under src/app rather than src/transport/http because it
 * speaks in rooms and mailboxes (domain events, policies), which a transport must not know
 * (DESIGN.md); the HTTP plumbing it needs (router, JSON bodies, errors) stays in the transport.
 */
export { roomAdminRoutes } from './roomRoutes.js';
export { mailboxAdminRoutes } from './mailboxRoutes.js';
export { createRoom, deleteRoom, listRooms, showRoom, updateRoom, policyFrom, type RoomAdminDeps, type RoomView, type RoomSummary, type ParticipantView } from './roomAdmin.js';
export { adminLimits } from './validate.js';
export { checkAdminRequest, guarded, type AdminRouteOptions } from './guard.js';
export { ROOM_KIND } from '../../actors/roomKind.js';
