/**
 * Route patterns as Express 4 matches them, so metrics and the cache see the same route the service's own router
 * answers: `:param`, `:param?`, `:param(\\d+)`, `*`, a literal `.`, an optional trailing slash, case-insensitive,
 * against the raw path (before `?`, not percent-decoded).
 */

export interface RoutePattern {
  method: string;
  path: string;
}

interface CompiledRoute<T> {
  route: T;
  /** Request methods it answers; null for ALL. A GET route also answers HEAD, as in Express. */
  methods: Set<string> | null;
  regex: RegExp;
  rank: number[];
  methodRank: number;
  index: number;
}

/**
 * Express 4's path-to-regexp (0.1.x, MIT) for a string path with Express's router options (`strict: false`,
 * `end: true`, case-insensitive).
 */
export function expressPathToRegExp(path: string): RegExp {
  let pos = 0;
  let backtrack = '';
  let source = path.replace(
    /\\.|(\/)?(\.)?:(\w+)(\(.*?\))?(\*)?(\?)?|[.*]|\/\(/g,
    (match: string, slash: string | undefined, format: string | undefined, _key: string, capture: string | undefined, star: string | undefined, optional: string | undefined, offset: number) => {
      if (match[0] === '\\') {
        backtrack += match;
        pos += 2;
        return match;
      }
      if (match === '.') {
        backtrack += '\\.';
        pos += 1;
        return '\\.';
      }
      if (slash || format) backtrack = '';
      else backtrack += path.slice(pos, offset);
      pos = offset + match.length;
      if (match === '*') {
        backtrack = '';
        return '(.*)';
      }
      if (match === '/(') {
        backtrack += '/';
        return '/(?:';
      }
      const formatPart = format ? '\\.' : '';
      const capturePart = capture
        ? capture.replace(/\\.|\*/, (m) => (m === '*' ? '(.*)' : m))
        : backtrack
          ? `((?:(?!/|${backtrack}).)+?)`
          : `([^/${formatPart}]+?)`;
      const result = `(?:${formatPart}${slash ?? ''}${capturePart}${star ? `((?:[/${formatPart}].+?)?)` : ''})${optional ?? ''}`;
      backtrack = '';
      return result;
    },
  );
  source += source.endsWith('/') ? '?' : '/?';
  return new RegExp(`^${source}$`, 'i');
}

/** The path Express matches: the request target before `?`, not decoded. */
export function rawPath(url: string): string {
  const path = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '').split('?')[0];
  return path || '/';
}

/** How specific one path segment is: lower is more specific. */
function segmentRank(segment: string): number {
  const withoutParams = segment.replace(/:\w+(\(.*?\))?[*?]?/g, '');
  if (/\*/.test(withoutParams) || /:\w+(\(.*?\))?\*/.test(segment)) return 5;
  if (!segment.includes(':')) return 0;
  if (/^:\w+(\(.*?\))?\?$/.test(segment)) return 4;
  if (/^:\w+$/.test(segment)) return 3;
  if (/^:\w+\(.*\)$/.test(segment)) return 2;
  return 1;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i += 1) {
    const x = a[i];
    const y = b[i];
    // A shorter pattern first, unless the longer one only adds optional segments.
    if (x === undefined) return b.slice(i).every((r) => r === 4) ? -1 : 1;
    if (y === undefined) return a.slice(i).every((r) => r === 4) ? 1 : -1;
    if (x !== y) return x - y;
  }
  return 0;
}

/**
 * A set of routes, most specific first (static segments before parameters, explicit methods before ALL), so
 * `/api/products/featured` is reported as itself even when `/api/products/:id` is listed before it.
 */
export class RouteTable<T extends RoutePattern> {
  private readonly compiled: CompiledRoute<T>[];

  constructor(routes: readonly T[]) {
    this.compiled = routes
      .map((route, index) => {
        const method = route.method.toUpperCase();
        return {
          route,
          methods: method === 'ALL' ? null : new Set(method === 'GET' ? ['GET', 'HEAD'] : [method]),
          regex: expressPathToRegExp(route.path),
          rank: route.path.split('/').filter((s) => s !== '').map(segmentRank),
          methodRank: method === 'ALL' ? 2 : method === 'GET' ? 1 : 0,
          index,
        };
      })
      .sort((a, b) => compareRanks(a.rank, b.rank) || a.methodRank - b.methodRank || a.index - b.index);
  }

  /** The first route that answers this method and raw path. */
  match(method: string, path: string): T | undefined {
    const upper = method.toUpperCase();
    for (const entry of this.compiled) {
      if ((entry.methods === null || entry.methods.has(upper)) && entry.regex.test(path)) return entry.route;
    }
    return undefined;
  }
}
