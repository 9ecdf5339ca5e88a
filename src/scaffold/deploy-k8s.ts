import type { Analysis } from '../model/analysis.js';
import type { FileChange } from '../model/file-change.js';
import type { Plan } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { type DeployModel, type DeployOptions, type ServiceDeploy, buildDeployModel } from './deploy-model.js';
import { renderTemplates } from './render-templates.js';

/** Where the Kubernetes files go, relative to the scaffold root. */
export const K8S_ROOT = 'deploy/k8s';

/**
 * Renders the Kubernetes deployment: a kustomize base (namespace, default-deny and per-service NetworkPolicies,
 * Ingress with TLS, gateway, Redis when a service needs it, and per service a Deployment, Service, HPA, PDB and
 * ConfigMap) plus dev and prod overlays. Secrets are referenced, never written. Paths relative to the scaffold root.
 */
export function renderK8s(plan: Plan, analysis: Analysis, options: DeployOptions): FileChange[] {
  return renderK8sModel(buildDeployModel(plan, analysis, options));
}

export function renderK8sModel(model: DeployModel): FileChange[] {
  const changes: FileChange[] = [...renderTemplates({ template: 'k8s/project', into: K8S_ROOT, context: projectContext(model) })];
  for (const service of model.services) {
    changes.push(...renderTemplates({ template: 'k8s/service', into: `${K8S_ROOT}/base/services`, service: service.name, context: serviceContext(model, service) }));
  }
  if (model.redis.enabled) {
    changes.push(...renderTemplates({ template: 'k8s/redis', into: `${K8S_ROOT}/base/redis`, context: redisContext(model) }));
  }
  return changes.sort((a, b) => compareStrings(a.path, b.path));
}

function projectContext(model: DeployModel): Record<string, unknown> {
  const images = [...model.services.map((s) => s.image), model.gateway.image].sort(compareStrings);
  return {
    namespace: model.namespace,
    port: model.port,
    gateway: model.gateway,
    redis: model.redis,
    secrets: model.secrets,
    ingress: model.ingress,
    network: model.network,
    edges: model.edges,
    services: model.services.map((s) => ({ name: s.name, path: `services/${s.name}` })),
    images: images.map((name) => ({ name, prodName: model.registry === null ? null : `${model.registry}/${name}` })),
    dev: model.dev,
    prod: model.prod,
    skippedEnv: model.skippedEnv,
    redisUsers: model.services.flatMap((s) => s.redisReasons.map((r) => `${s.name}: ${r}`)),
    hazards: model.services.flatMap((s) => s.hazards.map((h) => oneLine(`${s.name}: ${h}`))),
  };
}

function serviceContext(model: DeployModel, service: ServiceDeploy): Record<string, unknown> {
  const configMap = `${service.name}-config`;
  return {
    name: service.name,
    image: service.image,
    port: service.port,
    portText: String(service.port),
    uid: model.nodeUid,
    replicas: service.replicas,
    configMap,
    dependsOn: service.dependsOn,
    dependsOnText: service.dependsOn.join(', '),
    calledBy: service.calledBy,
    hazardsText: oneLine(service.hazards.join('\n')),
    knownEnv: service.env.filter((e) => e.value !== null).map((e) => ({ name: e.name, value: e.value })),
    unknownEnv: service.env.filter((e) => e.value === null).map((e) => ({ name: e.name, readAt: oneLine(e.readAt.join(', ')) })),
    plainEnv: service.env.map((e) => ({ name: e.name, optional: e.value === null })),
    secretEnv: service.secrets.map((s) => ({ name: s.name, secret: s.secret, key: s.key })),
    usesRedis: service.usesRedis,
    hasRoutes: service.routePrefixes.length > 0,
    gateway: model.gateway.name,
    redisName: model.redis.name,
    redisPort: model.redis.port,
    ingressNamespace: model.network.ingressControllerNamespace,
    monitoringNamespace: model.network.monitoringNamespace,
  };
}

function redisContext(model: DeployModel): Record<string, unknown> {
  return { redis: model.redis, headless: `${model.redis.name}-headless`, clientsText: model.redis.clients.join(', ') };
}

/**
 * Text for a YAML comment: the `yaml` helper already escapes \n and \r, but YAML 1.1 parsers (kubectl's) also
 * end a line at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR, which JSON leaves as they are.
 */
function oneLine(text: string): string {
  return text.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
