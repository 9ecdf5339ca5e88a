/**
 * The runtime every service of this workspace runs on: it serves the service's Express app with request ids,
 * JSON logs, Prometheus metrics, health and readiness endpoints, graceful shutdown, authenticated internal calls
 * between services and a Redis cache that fails open. Nothing here touches the network at import.
 */
export { configureService, type CacheRoute, type ServiceConfig } from './config';
export { currentRequestId } from './context';
export { dataHandler, remoteData } from './data';
export { NotYetExtractedError, notYetExtracted, notYetExtractedValue, registerErrorTypes, registerShared } from './errors';
export { registerInternal } from './internal';
export { logger } from './logger';
export { RemoteCallError, callRemote, callRemoteDeferred, type CallOptions } from './remote';
export { serve } from './server';
