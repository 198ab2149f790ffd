/**
 * The TCP fault proxy between the store and PostgreSQL, with a control API in Toxiproxy's
 * vocabulary (proxies, toxics, toxicity, enabled), so that a real Toxiproxy can stand in for it:
 * data-plane.ts (the listener and its connections), connection.ts (one connection: piping and its
 * state), control-api.ts (the HTTP API and its router), toxics.ts (the toxics, what each does to a stream).
 */
export { FaultProxyServer } from './control-api';
export type { ConnectionLog } from './connection';
export { FaultProxy, type ProxyDescription } from './data-plane';
export type { Stream, Toxic, ToxicType } from './toxics';
