import type { Analysis } from '../model/analysis.js';
import { DNS_LABEL, type Plan } from '../model/plan.js';
import { expandModules } from '../plan/build-plan.js';
import { compareStrings, sortBy, uniqueSorted } from '../util/compare.js';
import { UserError } from '../util/errors.js';

/**
 * What the container and Kubernetes generators need to know about each service, computed once from the plan
 * and the analysis: plain, sorted, serialisable data. Templates only lay it out.
 */

/** Every service (and the gateway) listens here, inside its container (env `PORT`). */
export const CONTAINER_PORT = 8080;
export const REDIS_PORT = 6379;
/** Pinned Node LTS base image of every service image. */
export const NODE_IMAGE = 'node:22.14.0-bookworm-slim';
/** Pinned Redis image; the Debian variant runs as uid/gid 999. */
export const REDIS_IMAGE = 'redis:7.4.2-bookworm';
/** uid:gid of the `node` user in the official Node images: the services run as it, never as root. */
export const NODE_UID = 1000;
export const REDIS_UID = 999;
/** The nginx gateway another generator writes; it listens on CONTAINER_PORT and its image builds from `gateway/`. */
export const GATEWAY_NAME = 'gateway';
export const GATEWAY_DIR = 'gateway';
/** What the gateway answers itself (templates/gateway: `location = /gateway/healthz`): its probes' path. */
export const GATEWAY_HEALTH_PATH = '/gateway/healthz';
/** uid of nginx in the unprivileged nginx images the gateway is expected to use. */
export const GATEWAY_UID = 101;
export const REDIS_NAME = 'redis';
/** Env var and Secret key of the token services send to each other as `x-internal-token`. */
export const INTERNAL_TOKEN_ENV = 'INTERNAL_TOKEN';
export const INTERNAL_TOKEN_KEY = 'internal-token';
/** Where the cluster's ingress controller, DNS and Prometheus run: NetworkPolicies admit them by namespace. */
export const INGRESS_CLASS = 'nginx';
export const INGRESS_CONTROLLER_NAMESPACE = 'ingress-nginx';
export const MONITORING_NAMESPACE = 'monitoring';
export const CLUSTER_ISSUER = 'letsencrypt-prod';
/** Dev overlay: one replica of everything, so it fits a laptop cluster. */
export const DEV_REPLICAS = { min: 1, max: 2 };
/** Production never runs a single replica: one node drain or crash would take the service down. */
export const PROD_MIN_REPLICAS = 2;

/** Hazards that need a shared store once a service runs several replicas (listed as further reasons for Redis). */
const REDIS_HAZARDS = new Set(['in-memory-session', 'in-process-cache', 'module-state']);
/** Packages whose import means the code already talks to Redis. */
const REDIS_PACKAGES = new Set(['redis', 'ioredis', '@redis/client', 'connect-redis', 'rate-limit-redis', 'bullmq', 'bull']);
/** Env names the scaffold sets itself (any value the code's default would choose is replaced). */
const FIXED_ENV: Record<string, string> = { NODE_ENV: 'production', PORT: String(CONTAINER_PORT) };
/** Env names both Kubernetes and Compose accept, and that Compose can interpolate (`${NAME}`). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Seam endpoints services expose to each other: the Ingress never routes them (the gateway answers 404). */
const INTERNAL_PREFIX = '/_internal';
/** A path segment the Ingress may match literally (RFC 3986 unreserved characters). */
const STATIC_SEGMENT = /^[A-Za-z0-9._~-]+$/;

export interface DeployOptions {
  /** Public host name of the Ingress (its TLS certificate is issued for it). */
  host: string;
  /** Image registry (and path) of the production images, e.g. `ghcr.io/acme`; dev uses local images. */
  registry?: string;
}

/** A non-secret env var. `value` null: the code reads it but its value is unknown, so it stays unset until set. */
export interface PlainEnv {
  name: string;
  value: string | null;
  /** `file:line` where the code reads it (empty for the variables the scaffold adds). */
  readAt: string[];
}

/** A secret env var: a reference to a key of a Secret that is created outside the generated files. */
export interface SecretEnv {
  name: string;
  secret: string;
  key: string;
  readAt: string[];
}

export interface ServiceDeploy {
  name: string;
  /** UPPER_SNAKE form: other services reach it through `<envName>_URL`. */
  envName: string;
  /** Image name without registry or tag (`<project>-<service>`). */
  image: string;
  port: number;
  /** Production replicas: the plan's, with min raised to PROD_MIN_REPLICAS. */
  replicas: { min: number; max: number };
  /** The plan's replicas as written (HPA bounds equal these whenever they already satisfy production). */
  planReplicas: { min: number; max: number };
  dependsOn: string[];
  calledBy: string[];
  env: PlainEnv[];
  secrets: SecretEnv[];
  /** Path prefixes the Ingress sends straight to this service. */
  routePrefixes: string[];
  /** Always true: the runtime every service runs on caches in Redis (`REDIS_URL`, fail-open). */
  usesRedis: boolean;
  /** Why it needs Redis beyond the runtime's cache (hazards or imports), one line each. */
  redisReasons: string[];
  /** Scale-out hazards in its code, one line each (`kind at file:line: message`). */
  hazards: string[];
}

export interface IngressPath {
  path: string;
  /** A service name or the gateway. */
  backend: string;
}

export interface DeployModel {
  project: string;
  /** The project name made a DNS label: the Kubernetes namespace and the prefix of image and Secret names. */
  namespace: string;
  host: string;
  registry: string | null;
  port: number;
  nodeImage: string;
  nodeUid: number;
  services: ServiceDeploy[];
  gateway: { name: string; image: string; port: number; dir: string; uid: number; healthPath: string };
  redis: { enabled: boolean; name: string; port: number; image: string; url: string; uid: number; clients: string[] };
  secrets: {
    /** Secret holding the application's secret-like env vars, one key per variable name. */
    app: string;
    appKeys: string[];
    internal: string;
    internalKey: string;
    internalEnv: string;
  };
  ingress: { name: string; host: string; className: string; clusterIssuer: string; tlsSecret: string; paths: IngressPath[] };
  network: { ingressControllerNamespace: string; monitoringNamespace: string };
  /** Allowed service-to-service calls (the plan's dependsOn), sorted. */
  edges: Array<{ from: string; to: string }>;
  /** Shared libraries of the plan (workspace packages under `packages/`). */
  sharedLibraries: string[];
  /** Env names the code reads that cannot be passed on safely (not identifiers), with where they are read. */
  skippedEnv: string[];
  dev: { replicas: number; minReplicas: number; maxReplicas: number; tag: string };
  prod: { tag: string };
}

/**
 * Builds the deployment model: one entry per plan service with its env (secret-like names only as references,
 * never values), its allowed callers and callees, Ingress path prefixes and whether it needs Redis.
 * Service names must be DNS labels (they become host, image and object names).
 */
export function buildDeployModel(plan: Plan, analysis: Analysis, options: DeployOptions): DeployModel {
  const problems = [
    ...plan.services.filter((s) => !DNS_LABEL.test(s.name) || s.name === GATEWAY_NAME || s.name === REDIS_NAME).map((s) => `service name ${JSON.stringify(s.name)}`),
  ];
  if (problems.length > 0) {
    throw new UserError('DEC-080', `cannot deploy: ${problems.join(', ')} is not a usable DNS label`, {
      hint: `rename the service in the plan: lowercase letters, digits and hyphens, starting with a letter; "${GATEWAY_NAME}" and "${REDIS_NAME}" are taken`,
      details: problems,
    });
  }
  const host = options.host.trim().toLowerCase();
  if (!/^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(host) || host.length > 253) {
    throw new UserError('DEC-081', `${JSON.stringify(options.host)} is not a DNS host name for the Ingress`, { hint: 'pass a host such as shop.example.com' });
  }
  const registry = options.registry === undefined || options.registry === '' ? null : options.registry.replace(/\/+$/, '');
  if (registry !== null && !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(registry)) {
    throw new UserError('DEC-082', `${JSON.stringify(options.registry)} is not an image registry`, { hint: 'pass a registry such as ghcr.io/acme or registry.example.com:5000/shop' });
  }

  const namespace = toDnsLabel(plan.project) || 'app';
  const services = sortBy(plan.services, (s) => s.name);
  const names = new Set(services.map((s) => s.name));
  const dependsOn = new Map(services.map((s) => [s.name, uniqueSorted(s.dependsOn.filter((d) => names.has(d) && d !== s.name))]));
  const edges = services.flatMap((s) => dependsOn.get(s.name)!.map((to) => ({ from: s.name, to })));
  const reach = reachableModules(plan, analysis);
  const appSecret = `${namespace}-secrets`;
  const internalSecret = `${namespace}-internal`;
  const skipped = new Set<string>();

  const deploys: ServiceDeploy[] = services.map((service) => {
    const modules = reach.get(service.name)!;
    const reads = analysis.env.filter((e) => e.modules.some((m) => modules.has(m.module)));
    const plain = new Map<string, PlainEnv>();
    const secrets = new Map<string, SecretEnv>();
    for (const read of reads) {
      const readAt = uniqueSorted(read.modules.filter((m) => modules.has(m.module)).map((m) => `${m.module}:${m.line}`));
      if (!ENV_NAME.test(read.name)) {
        skipped.add(`${read.name} (${readAt.join(', ')})`);
      } else if (read.name === INTERNAL_TOKEN_ENV) {
        continue; // always a reference to the internal Secret, added below
      } else if (read.secretLike) {
        secrets.set(read.name, { name: read.name, secret: appSecret, key: read.name, readAt });
      } else {
        plain.set(read.name, { name: read.name, value: FIXED_ENV[read.name] ?? null, readAt });
      }
    }
    const setPlain = (name: string, value: string) => {
      if (secrets.has(name)) return; // the code treats it as a secret: keep it a reference
      plain.set(name, { name, value, readAt: plain.get(name)?.readAt ?? [] });
    };
    for (const [name, value] of Object.entries(FIXED_ENV)) setPlain(name, value);
    for (const to of dependsOn.get(service.name)!) setPlain(`${toEnvName(to)}_URL`, `http://${to}:${CONTAINER_PORT}`);

    const hazards = sortBy(
      uniqueBy([...service.hazards, ...analysis.hazards.filter((h) => modules.has(h.file))], (h) => `${h.kind} ${h.file}:${h.line}`),
      (h) => h.file,
      (h) => h.line,
      (h) => h.kind,
    );
    const redisReasons = uniqueSorted([
      ...hazards.filter((h) => REDIS_HAZARDS.has(h.kind)).map((h) => `${h.kind} at ${h.file}:${h.line}`),
      ...analysis.modules.filter((m) => modules.has(m.path)).flatMap((m) => m.externals.filter((p) => REDIS_PACKAGES.has(p)).map((p) => `${m.path} imports ${p}`)),
    ]);
    // Every service's runtime caches in Redis (fail-open: without it the requests go to the code). The Redis is
    // the one deployed here, whose URL holds no credential: a plain setting even where the code's name looks secret.
    secrets.delete('REDIS_URL');
    setPlain('REDIS_URL', `redis://${REDIS_NAME}:${REDIS_PORT}`);
    secrets.set(INTERNAL_TOKEN_ENV, { name: INTERNAL_TOKEN_ENV, secret: internalSecret, key: INTERNAL_TOKEN_KEY, readAt: [] });

    const planReplicas = { min: service.replicas.min, max: Math.max(service.replicas.max, service.replicas.min) };
    const min = Math.max(PROD_MIN_REPLICAS, planReplicas.min);
    return {
      name: service.name,
      envName: toEnvName(service.name),
      image: `${namespace}-${service.name}`,
      port: CONTAINER_PORT,
      replicas: { min, max: Math.max(min, planReplicas.max) },
      planReplicas,
      dependsOn: dependsOn.get(service.name)!,
      calledBy: uniqueSorted(edges.filter((e) => e.to === service.name).map((e) => e.from)),
      env: sortBy(plain.values(), (e) => e.name),
      secrets: sortBy(secrets.values(), (e) => e.name),
      routePrefixes: [],
      usesRedis: true,
      redisReasons,
      hazards: hazards.map((h) => `${h.kind} at ${h.file}:${h.line}: ${h.message}`),
    };
  });

  const paths = ingressPaths(deploys, services, plan.entryRoutes);
  for (const deploy of deploys) deploy.routePrefixes = paths.filter((p) => p.backend === deploy.name).map((p) => p.path);

  return {
    project: plan.project,
    namespace,
    host,
    registry,
    port: CONTAINER_PORT,
    nodeImage: NODE_IMAGE,
    nodeUid: NODE_UID,
    services: deploys,
    gateway: { name: GATEWAY_NAME, image: `${namespace}-${GATEWAY_NAME}`, port: CONTAINER_PORT, dir: GATEWAY_DIR, uid: GATEWAY_UID, healthPath: GATEWAY_HEALTH_PATH },
    redis: {
      enabled: deploys.some((d) => d.usesRedis),
      name: REDIS_NAME,
      port: REDIS_PORT,
      image: REDIS_IMAGE,
      url: `redis://${REDIS_NAME}:${REDIS_PORT}`,
      uid: REDIS_UID,
      clients: deploys.filter((d) => d.usesRedis).map((d) => d.name),
    },
    secrets: {
      app: appSecret,
      appKeys: uniqueSorted(deploys.flatMap((d) => d.secrets.filter((s) => s.secret === appSecret).map((s) => s.key))),
      internal: internalSecret,
      internalKey: INTERNAL_TOKEN_KEY,
      internalEnv: INTERNAL_TOKEN_ENV,
    },
    ingress: { name: namespace, host, className: INGRESS_CLASS, clusterIssuer: CLUSTER_ISSUER, tlsSecret: `${namespace}-tls`, paths },
    network: { ingressControllerNamespace: INGRESS_CONTROLLER_NAMESPACE, monitoringNamespace: MONITORING_NAMESPACE },
    edges,
    sharedLibraries: uniqueSorted(plan.sharedLibraries.map((l) => l.name)),
    skippedEnv: [...skipped].sort(compareStrings),
    dev: { replicas: DEV_REPLICAS.min, minReplicas: DEV_REPLICAS.min, maxReplicas: DEV_REPLICAS.max, tag: 'dev' },
    prod: { tag: 'REPLACE_WITH_RELEASE_TAG' },
  };
}

/** `order-history` → `ORDER_HISTORY`. */
export function toEnvName(service: string): string {
  return service.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** Lowercase letters, digits and hyphens, starting with a letter, at most 63 characters; '' if nothing is left. */
export function toDnsLabel(text: string): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return DNS_LABEL.test(label) ? label : '';
}

/**
 * The longest static prefix of a route path: its leading segments up to the first parameter, wildcard or any
 * character the Ingress could not match literally. `/api/orders/:id/cancel` → `/api/orders`; `/:slug` → `/`.
 */
export function staticPrefix(routePath: string): string {
  const segments: string[] = [];
  for (const segment of routePath.split('/').slice(1)) {
    if (!STATIC_SEGMENT.test(segment)) break;
    segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

/** Whether `ancestor` matches `path` as a Kubernetes `Prefix` path does (element-wise, `/a` covers `/a/b`, not `/ab`). */
function covers(ancestor: string, path: string): boolean {
  return ancestor === '/' || path === ancestor || path.startsWith(`${ancestor}/`);
}

/**
 * Ingress paths: each route's static prefix goes to its service. A prefix more than one service serves, `/`, and
 * the entry routes (which the gateway answers) go to the gateway; `/` always does, as the fallback, and so does
 * anything under `/_internal` (service-to-service endpoints, never public). Prefixes that
 * change nothing under longest-prefix matching (their nearest enclosing prefix has the same backend) are left out.
 */
function ingressPaths(deploys: ServiceDeploy[], services: Plan['services'], entryRoutes: string[]): IngressPath[] {
  const claims = new Map<string, Set<string>>();
  const claim = (path: string, backend: string) => claims.set(path, (claims.get(path) ?? new Set()).add(backend));
  for (const service of services) {
    if (!deploys.some((d) => d.name === service.name)) continue;
    for (const route of service.routes) claim(staticPrefix(routePath(route)), service.name);
  }
  for (const route of entryRoutes) claim(staticPrefix(routePath(route)), GATEWAY_NAME);
  const owner = new Map<string, string>([...claims].map(([path, backends]) => [path, backends.size === 1 ? [...backends][0]! : GATEWAY_NAME]));
  owner.set('/', GATEWAY_NAME);
  const all = [...owner.keys()].sort(compareStrings);
  const kept: IngressPath[] = [];
  for (const path of all) {
    if (path === '/' || covers(INTERNAL_PREFIX, path)) continue;
    const nearest = all.filter((a) => a !== path && covers(a, path)).sort((a, b) => b.length - a.length)[0] ?? '/';
    if (owner.get(nearest) !== owner.get(path)) kept.push({ path, backend: owner.get(path)! });
  }
  return [...kept, { path: '/', backend: GATEWAY_NAME }].sort((a, b) => compareStrings(a.path, b.path));
}

/** `"GET /api/orders/:id"` → `/api/orders/:id`. */
function routePath(route: string): string {
  const space = route.indexOf(' ');
  const path = space >= 0 ? route.slice(space + 1).trim() : route.trim();
  return path.startsWith('/') ? path : `/${path}`;
}

/**
 * The modules whose code runs in each service: its own, plus the shared-library modules they import at run time
 * (transitively). Imports of other services' modules become HTTP calls and are not followed; neither are entry
 * points, which belong to no service.
 */
function reachableModules(plan: Plan, analysis: Analysis): Map<string, Set<string>> {
  const all = analysis.modules.map((m) => m.path);
  const owner = new Map<string, { kind: 'service' | 'shared' | 'entry'; name: string }>();
  for (const module of expandModules(plan.entrypoints, all)) owner.set(module, { kind: 'entry', name: '' });
  for (const library of plan.sharedLibraries) {
    for (const module of expandModules(library.modules, all)) if (!owner.has(module)) owner.set(module, { kind: 'shared', name: library.name });
  }
  for (const service of plan.services) {
    for (const module of expandModules(service.modules, all)) if (!owner.has(module)) owner.set(module, { kind: 'service', name: service.name });
  }
  const next = new Map<string, string[]>();
  for (const edge of analysis.imports) {
    if (edge.typeOnly) continue;
    next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to, ...edge.through]);
  }
  const out = new Map<string, Set<string>>();
  for (const service of plan.services) {
    const seen = new Set<string>();
    const stack = [...owner].filter(([, o]) => o.kind === 'service' && o.name === service.name).map(([m]) => m);
    while (stack.length > 0) {
      const module = stack.pop()!;
      if (seen.has(module)) continue;
      seen.add(module);
      for (const target of next.get(module) ?? []) {
        const o = owner.get(target);
        if (o && (o.kind === 'shared' || (o.kind === 'service' && o.name === service.name))) stack.push(target);
      }
    }
    out.set(service.name, seen);
  }
  return out;
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
