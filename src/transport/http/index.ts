/** Parley's HTTP transport: the server, its router and helpers (JSON bodies included), and the visualizer's routes. */
export { createHttpServer, type HttpServer, type HttpServerOptions } from './server.js';
export { Router, BadPathError, type HttpMethod, type Route, type RouteContext, type RouteHandler, type RouteMatch } from './router.js';
export { HttpError, sendJson, sendError, safeStringify, intParam } from './respond.js';
export { openSse, type SseChannel, type SseOptions } from './sse.js';
export { staticFiles, singleFile, contentTypeOf } from './staticFiles.js';
export { statechartOf, activeIds, statePaths, formatDelay, type ChartNode, type ChartTransition } from './statechart.js';
export { listActors, rowOf, summaryOf, type ActorRow, type ListPage, type ListQuery } from './actorListing.js';
export { visualizerRoutes, type VisualizerOptions } from './visualizerRoutes.js';
export { readJson, DEFAULT_JSON_BODY_LIMIT } from './body.js';
