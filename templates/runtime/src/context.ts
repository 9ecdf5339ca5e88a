import { AsyncLocalStorage } from 'node:async_hooks';

/** What the runtime keeps for the duration of one request (and everything it awaits). */
export interface RequestContext {
  requestId: string;
  /** Calls started without waiting for them (callRemoteDeferred): the response is held until they settle. */
  pending: Set<Promise<void>>;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The id of the request being served, if any. */
export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

/** Whether this process's server is listening yet: before it is, calls to other services wait for them to come up. */
export const lifecycle = { listening: false };
