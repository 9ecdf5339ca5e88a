import { inspect } from 'node:util';
import { registerSymbolTable } from './codec';

/**
 * Thrown by the stubs the scaffold leaves where a call into another service could not be converted into a
 * network call (a synchronous helper, a shared object, a class). Status 501: an Express error handler that
 * answers `err.status` tells the client the feature is not available in this service yet.
 */
export class NotYetExtractedError extends Error {
  override readonly name = 'NotYetExtractedError';
  readonly code = 'NOT_YET_EXTRACTED';
  readonly status = 501;
  readonly statusCode = 501;
  readonly expose = false;
  /** What the code used (`getUser`, `db.products`). */
  readonly what: string;
  /** The service or library that owns it now. */
  readonly owner: string;
  /** Where the original code used it (`src/orders/service.ts:42`). */
  readonly at: string;

  constructor(what: string, owner: string, at: string) {
    super(`${what} (used at ${at}) now belongs to ${owner} and was not converted into a call to it: replace this stub`);
    this.what = what;
    this.owner = owner;
    this.at = at;
  }
}

/** Throws a {@link NotYetExtractedError}. */
export function notYetExtracted(what: string, owner: string, at: string): never {
  throw new NotYetExtractedError(what, owner, at);
}

/**
 * A value that stands for something not extracted yet: importing and passing it around works, using it (reading
 * a property, calling it, `new`) throws {@link NotYetExtractedError}. It is not a thenable, and it describes
 * itself to `console.log`, so loading and logging a module that holds one does not fail.
 */
export function notYetExtractedValue(what: string, owner: string, at: string): any {
  const target = function notYetExtracted() {
    // only a target for the proxy: calls go through the apply trap
  };
  return new Proxy(target, {
    get(_target, property) {
      if (property === 'then' || property === '__esModule') return undefined;
      if (property === inspect.custom) return () => `[not yet extracted: ${what} (${owner})]`;
      throw new NotYetExtractedError(what, owner, at);
    },
    apply() {
      throw new NotYetExtractedError(what, owner, at);
    },
    construct() {
      throw new NotYetExtractedError(what, owner, at);
    },
  });
}

/** Error classes the services share (from the shared package), by name: a remote error comes back as one of them. */
const errorTypes = new Map<string, Function>();

/**
 * Registers every Error subclass exported by these modules (the generated main passes the shared package's
 * modules). When another service answers an internal call with an error of one of these names, the caller rethrows
 * it as an instance of the same class, so `instanceof AppError` in an error handler still holds after the split.
 */
export function registerErrorTypes(...modules: unknown[]): void {
  for (const namespace of modules) {
    if (typeof namespace !== 'object' || namespace === null) continue;
    for (const value of Object.values(namespace as Record<string, unknown>)) {
      if (typeof value === 'function' && value.prototype instanceof Error && value.name) errorTypes.set(value.name, value);
    }
  }
}

/**
 * What the generated main registers from the shared package: its Error subclasses (remote errors keep their class)
 * and its tables of symbols (query operators such as `Op` travel by name).
 */
export function registerShared(...modules: unknown[]): void {
  registerErrorTypes(...modules);
  for (const namespace of modules) {
    if (typeof namespace !== 'object' || namespace === null) continue;
    for (const [name, value] of Object.entries(namespace as Record<string, unknown>)) {
      if (name !== 'default') registerSymbolTable(name, value);
    }
    // CommonJS modules: module.exports is the namespace's default.
    const cjs = (namespace as { default?: unknown }).default;
    if (typeof cjs === 'object' && cjs !== null) for (const [name, value] of Object.entries(cjs)) registerSymbolTable(name, value);
  }
}

/**
 * The same error as an instance of the shared class it was on the other side (its fields copied, no constructor
 * run), or the error itself when no such class is registered.
 */
export function asSharedError<E extends Error & { details?: unknown }>(error: E): Error {
  const type = errorTypes.get(error.name);
  if (!type) return error;
  const rebuilt = Object.create(type.prototype as object) as Record<string, unknown>;
  for (const [key, value] of Object.entries(error)) {
    if (key === 'details') continue;
    rebuilt[key] = value;
  }
  const details = error.details;
  if (typeof details === 'object' && details !== null) Object.assign(rebuilt, details);
  Object.defineProperty(rebuilt, 'message', { value: error.message, writable: true, configurable: true });
  Object.defineProperty(rebuilt, 'stack', { value: error.stack, writable: true, configurable: true });
  Object.defineProperty(rebuilt, 'cause', { value: error, writable: true, configurable: true });
  return rebuilt as unknown as Error;
}
