import { inspect } from 'node:util';
import { isRegisteredSymbol } from './codec';
import { NotYetExtractedError } from './errors';
import { callRemote } from './remote';

/** Method names that read: a data call with one of these is retried on a network failure; writes never are. */
const READ_METHOD = /^(find|get|count|list|all|exists|has|search|query|select|aggregate|distinct|read|first|last|sum|max|min|avg)/i;

/** Properties a proxy must never forward: promise detection, module interop, object plumbing. */
const NOT_FORWARDED = new Set<PropertyKey>(['then', '__esModule', 'constructor', 'prototype', 'toJSON', 'valueOf', 'toString', Symbol.toPrimitive, Symbol.iterator, Symbol.asyncIterator]);

/**
 * A stand-in for a data handle (a table, a model, a repository object) that now belongs to another service: each
 * method call goes to the owner as `callRemote(owner, operation, [method, ...args])`, where {@link dataHandler}
 * runs it on the real handle. A transitional data API that keeps behaviour while the data has one owner; arguments
 * that cannot travel as JSON (a predicate function, symbol keys, class instances) throw NotYetExtractedError instead
 * of being silently changed on the way.
 */
export function remoteData(owner: string, operation: string): any {
  const methods = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  // util.inspect looks at the target, not through the traps: the target describes itself.
  const target = Object.create(null) as object;
  Object.defineProperty(target, inspect.custom, { value: () => `[data of ${owner}: ${operation}]` });
  return new Proxy(target, {
    get(_target, property) {
      if (property === inspect.custom) return () => `[data of ${owner}: ${operation}]`;
      if (typeof property !== 'string' || NOT_FORWARDED.has(property)) return undefined;
      let method = methods.get(property);
      if (!method) {
        method = async (...args: unknown[]) => {
          const problem = args.map((arg, index) => unportable(arg, `argument ${index + 1}`)).find((p) => p !== null);
          if (problem) {
            throw new NotYetExtractedError(`${operation}.${property}(…) with ${problem}`, owner, operation);
          }
          return callRemote(owner, operation, [property, ...args], { idempotent: READ_METHOD.test(property) });
        };
        methods.set(property, method);
      }
      return method;
    },
    set() {
      throw new NotYetExtractedError(`assigning to ${operation}`, owner, operation);
    },
  });
}

/**
 * The owner's side of {@link remoteData}: runs `method(...args)` on the real handle. Only the handle's own methods
 * (and its prototype's) are callable, never Object's (`constructor`, `__proto__`, `hasOwnProperty` …).
 */
export function dataHandler(handle: unknown): (method: unknown, ...args: unknown[]) => unknown {
  return (method: unknown, ...args: unknown[]) => {
    if (typeof method !== 'string' || method === '' || method.startsWith('_') || method in Object.prototype) {
      throw Object.assign(new Error(`not a data method: ${String(method)}`), { status: 400, code: 'BAD_DATA_METHOD' });
    }
    const target = handle as Record<string, unknown> | null;
    const fn = target === null || target === undefined ? undefined : target[method];
    if (typeof fn !== 'function') {
      throw Object.assign(new Error(`the data handle has no method ${method}`), { status: 400, code: 'BAD_DATA_METHOD' });
    }
    return (fn as (...a: unknown[]) => unknown).apply(target, args);
  };
}

/** Why a value would not arrive as itself after JSON (null when it would). */
function unportable(value: unknown, where: string, depth = 0): string | null {
  if (depth > 64) return `${where}: nested too deeply`;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${where}: ${String(value)}`;
  if (typeof value === 'undefined') return null;
  if (typeof value === 'function') return `${where}: a function`;
  if (typeof value === 'symbol') return isRegisteredSymbol(value) ? null : `${where}: a symbol the shared code does not export`;
  if (typeof value === 'bigint') return `${where}: a bigint`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const problem = unportable(value[i], `${where}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (value instanceof Date) return null; // the codec carries Dates
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return `${where}: an instance of ${(value as object).constructor?.name ?? 'a class'}`;
  for (const key of Object.getOwnPropertySymbols(value)) {
    if (!isRegisteredSymbol(key)) return `${where}: a symbol key the shared code does not export (${String(key)})`;
    const problem = unportable((value as Record<symbol, unknown>)[key], `${where}[${String(key)}]`, depth + 1);
    if (problem) return problem;
  }
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    const problem = unportable(inner, `${where}.${key}`, depth + 1);
    if (problem) return problem;
  }
  return null;
}
