import type { FileChange } from '../model/file-change.js';
import type { Plan } from '../model/plan.js';
import { compareNumbers, compareStrings } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { renderTemplates } from './render-templates.js';

/**
 * The gateway keeps the monolith's public contract: every URL the monolith answered is routed to the service
 * that now owns it, with the original method, path and query. The routing table is plain data computed here;
 * templates/gateway/ lays it out as nginx configurations (containers and local runs) and as the table of a
 * dependency-free Node gateway.
 */

/** Seam endpoints that services expose to each other; the gateway never routes them (it answers 404). */
export const INTERNAL_PREFIX = '/_internal/';
/** Port every service listens on inside docker-compose and Kubernetes (the upstream is `<service>:8080`). */
export const SERVICE_PORT = 8080;
/** Port the gateway listens on inside its container. */
export const GATEWAY_PORT = 8080;
/** First loopback port of the default local port assignment (services in name order). */
export const DEFAULT_LOCAL_PORT_BASE = 4001;

export interface GatewayRoute {
  /** The route as the plan writes it: `GET /api/orders/:id`. */
  route: string;
  /** The method of the route (`ALL` for `app.all`). */
  method: string;
  /** Express path. */
  path: string;
  service: string;
  /** `service`: from `services[].routes`; `entry`: registered by a bootstrap module, see `entryService`. */
  source: 'service' | 'entry';
  /** Request methods it answers: a GET route also answers HEAD (as Express does); `*` for ALL. */
  methods: string[];
  /**
   * Anchored regular expression over the raw request path (before `?`, not percent-decoded: what Express
   * matches), equivalent to Express 4's path-to-regexp with `strict: false` and `end: true`. The end anchor is
   * written `(?![\s\S])` instead of `$`: it means the same in JavaScript and PCRE (nginx), and nginx values may
   * not contain `$`.
   */
  pattern: string;
  /** Always `i`: Express routes are case-insensitive by default. */
  flags: 'i';
}

export interface IgnoredRoute {
  route: string;
  service: string;
  reason: string;
}

export interface RoutingTable {
  /** Where routes registered by bootstrap modules (`entryRoutes`) go; null when the plan has no service. */
  entryService: string | null;
  internalPrefix: string;
  /** Most specific first: the first route that matches a request's method and path answers it. */
  routes: GatewayRoute[];
  /** Routes that can never answer (an identical method and path listed earlier), kept for reports. */
  ignored: IgnoredRoute[];
}

/**
 * One line of the gateway's decision list: the routes in table order, then an OPTIONS fallback per route (the
 * monolith answered OPTIONS for every path it routed, with Express's automatic `Allow` response or a CORS
 * middleware, so the service owning the first matching route answers it).
 */
export interface GatewayRule {
  methods: string[];
  pattern: string;
  service: string;
  route: string;
}

export interface RoutingOptions {
  /** Service that answers `entryRoutes`; defaults to {@link defaultEntryService}. */
  entryService?: string;
}

const METHOD = /^[A-Z]+$/;

/**
 * Where routes registered by bootstrap modules go when nobody says otherwise: the service with the most routes,
 * ties broken by name. They are registered by one piece of bootstrap code (app.ts, routes.ts) that belongs to
 * no service, so they go to one service together; the biggest one is the likeliest to keep that bootstrap code.
 */
export function defaultEntryService(plan: Plan): string | null {
  const ranked = [...plan.services].sort((a, b) => compareNumbers(b.routes.length, a.routes.length) || compareStrings(a.name, b.name));
  return ranked[0]?.name ?? null;
}

/**
 * Builds the gateway's routing table from the plan: every route of every service, plus the entry routes, with
 * an Express-faithful matcher, ordered so that a more specific route wins (static before parametric, longer
 * before shorter, an explicit method before ALL), which is how a monolith registered in a sensible order answers.
 */
export function buildRoutingTable(plan: Plan, options: RoutingOptions = {}): RoutingTable {
  const serviceNames = new Set(plan.services.map((s) => s.name));
  if (options.entryService !== undefined && !serviceNames.has(options.entryService)) {
    throw new UserError('DEC-071', `the gateway's entry service "${options.entryService}" is not a service of the plan`, {
      hint: `choose one of: ${[...serviceNames].sort(compareStrings).join(', ')}`,
    });
  }
  const entryService = options.entryService ?? defaultEntryService(plan);
  const candidates: GatewayRoute[] = [];
  const problems: string[] = [];
  const ignored: IgnoredRoute[] = [];
  const add = (route: string, service: string, source: GatewayRoute['source'], where: string) => {
    const parsed = parseRoute(route);
    if (typeof parsed === 'string') {
      problems.push(`${where}: ${parsed}`);
      return;
    }
    if (isInternalPath(parsed.path)) {
      problems.push(`${where}: "${route}" lies under ${INTERNAL_PREFIX}, which the gateway keeps for service-to-service calls`);
      return;
    }
    candidates.push({ route, method: parsed.method, path: parsed.path, service, source, methods: requestMethods(parsed.method), pattern: expressPathToPattern(parsed.path), flags: 'i' });
  };
  plan.services.forEach((service, i) => service.routes.forEach((route, j) => add(route, service.name, 'service', `services[${i}].routes[${j}]`)));
  plan.entryRoutes.forEach((route, j) => {
    if (entryService === null) ignored.push({ route, service: '', reason: 'the plan has no service to answer entry routes' });
    else add(route, entryService, 'entry', `entryRoutes[${j}]`);
  });
  if (problems.length > 0) {
    throw new UserError('DEC-072', `the gateway cannot route ${problems.length === 1 ? 'a route' : `${problems.length} routes`} of the plan`, {
      hint: 'fix or remove these routes in the plan (derived routes come from the code: rename the route there)',
      details: problems,
    });
  }
  const routes: GatewayRoute[] = [];
  const seen = new Map<string, GatewayRoute>();
  for (const route of candidates.sort(compareRoutes)) {
    const key = `${route.method} ${route.path.toLowerCase()}`;
    const first = seen.get(key);
    if (first) {
      ignored.push({ route: route.route, service: route.service, reason: `${first.service} answers the same route first` });
      continue;
    }
    seen.set(key, route);
    routes.push(route);
  }
  return { entryService, internalPrefix: INTERNAL_PREFIX, routes, ignored };
}

/**
 * The ordered decision list both gateways apply: first matching rule wins; no match goes to the entry service,
 * which carries the monolith's own app wiring and answers exactly what the monolith answered (its 404 body,
 * anything it served that is not a route).
 */
export function gatewayRules(table: RoutingTable): GatewayRule[] {
  const rules: GatewayRule[] = table.routes.map((r) => ({ methods: r.methods, pattern: r.pattern, service: r.service, route: r.route }));
  const fallbacks = new Set<string>();
  for (const r of table.routes) {
    // A second fallback with the same pattern could never match.
    if (r.methods.includes('*') || r.methods.includes('OPTIONS') || fallbacks.has(r.pattern.toLowerCase())) continue;
    fallbacks.add(r.pattern.toLowerCase());
    rules.push({ methods: ['OPTIONS'], pattern: r.pattern, service: r.service, route: `OPTIONS ${r.path} (fallback of ${r.route})` });
  }
  return rules;
}

/**
 * The service that answers a request (method and raw request target): the first matching rule's, else the entry
 * service; null only for internal paths (the gateway's own 404) or a plan without services.
 */
export function matchRequest(table: RoutingTable, method: string, target: string): string | null {
  const path = target.split('?')[0]!;
  if (isInternalPath(normalisePath(path))) return null;
  for (const rule of gatewayRules(table)) {
    if ((rule.methods.includes('*') || rule.methods.includes(method)) && new RegExp(rule.pattern, 'i').test(path)) return rule.service;
  }
  return table.entryService;
}

export interface GatewayOptions extends RoutingOptions {
  /** Loopback port of every service for `nginx.local.conf`; defaults to 4001, 4002, … in service name order. */
  localPorts?: Record<string, number>;
  /** Loopback port `nginx.local.conf` listens on (default 8080). */
  localGatewayPort?: number;
}

/** Environment variable the Node gateway reads a service's base URL from: `orders` → `ORDERS_URL`. */
export function serviceUrlEnv(service: string): string {
  return `${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_URL`;
}

/**
 * Renders the gateway (templates/gateway/): `gateway/nginx.conf` for docker-compose and Kubernetes (upstream
 * `<service>:8080`) with the `Dockerfile` of its image, `gateway/nginx.local.conf` for local runs (upstreams on
 * 127.0.0.1, one port per service), and `gateway/node/` (a dependency-free Node gateway and its routes.json) for
 * local runs without nginx.
 */
export function renderGateway(plan: Plan, options: GatewayOptions = {}): FileChange[] {
  const table = buildRoutingTable(plan, options);
  return renderRoutingTable(plan, table, options);
}

/** Renders a given table: {@link renderGateway} without building it (tests use it with a broken table). */
export function renderRoutingTable(plan: Plan, table: RoutingTable, options: GatewayOptions = {}): FileChange[] {
  const services = plan.services.map((s) => s.name).sort(compareStrings);
  const localPorts = resolveLocalPorts(services, options.localPorts);
  const gatewayPort = options.localGatewayPort ?? 8080;
  if (!isPort(gatewayPort)) throw new UserError('DEC-073', `the local gateway port ${String(gatewayPort)} is not a TCP port`, { hint: 'use a port between 1 and 65535' });
  const rules = gatewayRules(table);
  const mapRules = rules.map((rule) => ({
    label: nginxSafeText(`${rule.route} -> ${rule.service}`),
    key: nginxSafeRegex(`~*^${methodsPattern(rule.methods)} ${rule.pattern.slice(1)}`),
    service: rule.service,
  }));
  const common = {
    project: plan.project,
    internalPrefix: table.internalPrefix,
    rules: mapRules,
    fallback: table.entryService ?? '',
  };
  const nginx = (local: boolean) =>
    renderTemplates({
      template: 'gateway/nginx',
      into: 'gateway',
      context: {
        ...common,
        local,
        listen: local ? `127.0.0.1:${gatewayPort}` : String(GATEWAY_PORT),
        files: nginxFiles(local ? 'gateway-' : '/tmp/gateway-', local ? 'gateway-access.log' : '/dev/stdout'),
        upstreams: services.map((name) => ({ name, address: local ? `127.0.0.1:${localPorts[name]!}` : `${name}:${SERVICE_PORT}` })),
      },
    });
  const image = renderTemplates({ template: 'gateway/image', into: 'gateway', context: { project: plan.project, port: GATEWAY_PORT } });
  const container = nginx(false);
  const local = nginx(true).map((change) => ({ ...change, path: change.path.replace(/nginx\.conf$/, 'nginx.local.conf') }));
  const node = renderTemplates({
    template: 'gateway/node',
    into: 'gateway/node',
    context: {
      project: plan.project,
      internalPrefix: table.internalPrefix,
      services: services.map((name) => ({ name, env: serviceUrlEnv(name), localUrl: `http://127.0.0.1:${localPorts[name]!}` })),
      rules: rules.map((rule) => ({ route: rule.route, service: rule.service, methods: rule.methods, pattern: rule.pattern, flags: 'i' })),
      fallback: table.entryService,
    },
  });
  return [...image, ...container, ...local, ...node].sort((a, b) => compareStrings(a.path, b.path));
}

/**
 * A regex nginx can hold in a quoted map key whatever the route path was: characters that could end or change the
 * directive (control characters, `;`, `$`, and escaped braces) become PCRE hex escapes, which match the same
 * character. (An unescaped brace is a quantifier the route's own regex wrote; the nginx escaper refuses it.)
 */
export function nginxSafeRegex(pattern: string): string {
  return pattern.replace(/\{\d+(?:,\d*)?\}|\\([{}$;])|[\u0000-\u001f;${}]/g, (all: string, escaped: string | undefined) =>
    // A quantifier ({3}, {2,}) keeps its meaning; any other brace is a literal character of the path.
    /^\{\d/.test(all) ? all : hexEscape(escaped ?? all),
  );
}

/** Free text in an nginx comment: the same characters as `\xHH`, readable and inert. */
function nginxSafeText(text: string): string {
  return text.replace(/[\u0000-\u001f;{}$]/g, hexEscape);
}

function hexEscape(character: string): string {
  return `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/**
 * Files nginx writes: locally relative to the `-p` prefix, so parallel runs stay apart; in the container under
 * /tmp, the one writable place of the read-only image.
 */
function nginxFiles(prefix: string, accessLog: string): Record<string, string> {
  return {
    pid: `${prefix}nginx.pid`,
    accessLog,
    clientBodyTemp: `${prefix}client-body`,
    proxyTemp: `${prefix}proxy`,
    fastcgiTemp: `${prefix}fastcgi`,
    uwsgiTemp: `${prefix}uwsgi`,
    scgiTemp: `${prefix}scgi`,
  };
}

function resolveLocalPorts(services: string[], given: Record<string, number> | undefined): Record<string, number> {
  if (given === undefined) return Object.fromEntries(services.map((name, i) => [name, DEFAULT_LOCAL_PORT_BASE + i]));
  const problems: string[] = [];
  for (const name of services) {
    const port = given[name];
    if (port === undefined) problems.push(`${name}: no port`);
    else if (!isPort(port)) problems.push(`${name}: ${String(port)} is not a TCP port`);
  }
  if (problems.length > 0) {
    throw new UserError('DEC-073', 'the local ports of the gateway are incomplete', { hint: 'give every service a port between 1 and 65535', details: problems });
  }
  return given;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** `GET /api/x` → method and path, or the reason it cannot be routed. */
function parseRoute(route: string): { method: string; path: string } | string {
  // The path is everything after the first space, as written: a path the code wrote with a space or a line break in
  // it is still a route (the gateway escapes it for each format).
  const match = /^(\S+) ([\s\S]+)$/.exec(route);
  if (!match) return `"${route}" is not "METHOD /path"`;
  const method = match[1]!.toUpperCase();
  const path = match[2]!;
  if (!METHOD.test(method)) return `"${match[1]!}" in "${route}" is not an HTTP method`;
  if (!path.startsWith('/') && !path.startsWith('*')) return `"${path}" in "${route}" is not an Express path`;
  return { method, path };
}

function requestMethods(method: string): string[] {
  if (method === 'ALL') return ['*'];
  // Express answers HEAD with a GET route when no route before it handles HEAD.
  if (method === 'GET') return ['GET', 'HEAD'];
  return [method];
}

function methodsPattern(methods: string[]): string {
  if (methods.includes('*')) return '\\S+';
  return methods.length === 1 ? methods[0]! : `(?:${methods.join('|')})`;
}

/** Whether a (normalised) request path lies under the internal prefix, in any letter case. */
export function isInternalPath(path: string): boolean {
  const prefix = INTERNAL_PREFIX.replace(/\/$/, '').toLowerCase();
  const lower = path.toLowerCase();
  return lower === prefix || lower.startsWith(`${prefix}/`);
}

/** What nginx matches locations against: percent-decoded, slashes merged, dot segments resolved. */
export function normalisePath(raw: string): string {
  let path = raw;
  try {
    path = decodeURIComponent(raw);
  } catch {
    // A malformed escape is matched as it came.
  }
  const out: string[] = [];
  for (const segment of path.replace(/\/{2,}/g, '/').split('/').slice(1)) {
    if (segment === '..') out.pop();
    else if (segment !== '.') out.push(segment);
  }
  return `/${out.join('/')}`;
}

/**
 * Express 4's path-to-regexp (0.1.x, MIT, the version Express 4.21 ships) for a string path with Express's
 * router options (`strict: false`, `end: true`), returning the source; the flags are always `i`. Ported so the
 * gateway routes exactly what the monolith routed: `:param` → `([^/]+?)`, `:param(\d+)` keeps its regex,
 * `:param?` makes the segment and its slash optional, `*` → `(.*)`, `.` is literal, other regex characters
 * pass through as Express lets them, and a trailing slash is optional.
 */
export function expressPathToPattern(path: string): string {
  let extraOffset = 0;
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
        extraOffset += 1;
        pos += 1;
        return '\\.';
      }
      if (slash || format) backtrack = '';
      else backtrack += path.slice(pos, offset);
      pos = offset + match.length;
      if (match === '*') {
        backtrack = '';
        extraOffset += 3;
        return '(.*)';
      }
      if (match === '/(') {
        backtrack += '/';
        extraOffset += 2;
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
      extraOffset += result.length - match.length;
      return result;
    },
  );
  source += source.endsWith('/') ? '?' : '/?';
  return `^${source}(?![\\s\\S])`;
}

/** How specific one path segment is: lower wins. */
function segmentRank(segment: string): number {
  const withoutParams = segment.replace(/:\w+(\(.*?\))?[*?]?/g, '');
  if (/\*/.test(withoutParams) || /:\w+(\(.*?\))?\*/.test(segment)) return 5;
  if (!segment.includes(':')) return 0;
  if (/^:\w+(\(.*?\))?\?$/.test(segment)) return 4;
  if (/^:\w+$/.test(segment)) return 3;
  if (/^:\w+\(.*\)$/.test(segment)) return 2;
  return 1;
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** Static before parametric, longer before shorter (unless the rest is optional), explicit methods before ALL. */
function compareRoutes(a: GatewayRoute, b: GatewayRoute): number {
  const sa = segments(a.path).map(segmentRank);
  const sb = segments(b.path).map(segmentRank);
  for (let i = 0; i < Math.max(sa.length, sb.length); i += 1) {
    if (i >= sa.length) return sb.slice(i).every((r) => r === 4) ? -1 : 1;
    if (i >= sb.length) return sa.slice(i).every((r) => r === 4) ? 1 : -1;
    if (sa[i] !== sb[i]) return sa[i]! - sb[i]!;
  }
  return (
    compareStrings(shape(a.path), shape(b.path)) ||
    methodRank(a.method) - methodRank(b.method) ||
    compareStrings(a.path.toLowerCase(), b.path.toLowerCase()) ||
    compareStrings(a.method, b.method) ||
    (a.source === b.source ? 0 : a.source === 'service' ? -1 : 1) ||
    compareStrings(a.service, b.service) ||
    compareStrings(a.path, b.path)
  );
}

/** A path with its parameter names blanked: `/a/:id` and `/a/:key` overlap exactly, so they sort together. */
function shape(path: string): string {
  return path.toLowerCase().replace(/:\w+/g, ':');
}

/** An explicit method (HEAD included, so it wins over GET's implicit HEAD) before GET, GET before ALL. */
function methodRank(method: string): number {
  if (method === 'ALL') return 2;
  if (method === 'GET') return 1;
  return 0;
}
