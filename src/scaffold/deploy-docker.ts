import type { Analysis } from '../model/analysis.js';
import type { FileChange } from '../model/file-change.js';
import { DNS_LABEL, type Plan } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { type DeployModel, type DeployOptions, type ServiceDeploy, buildDeployModel } from './deploy-model.js';
import { renderTemplates } from './render-templates.js';

/**
 * Renders the container files: per service a multi-stage `Dockerfile` (npm ci against the workspace lockfile,
 * the service's own build script, which builds the workspace packages it uses first; a runtime stage with
 * production dependencies, the packages and the service's `dist/` only, non-root, HEALTHCHECK on /healthz) with its
 * ignore files, and a root `docker-compose.yml` running every service, the gateway and Redis. Paths are relative
 * to the scaffold root, which is also the Docker build context.
 */
export function renderDocker(plan: Plan, analysis: Analysis, options: DeployOptions): FileChange[] {
  return renderDockerModel(buildDeployModel(plan, analysis, options));
}

export function renderDockerModel(model: DeployModel): FileChange[] {
  const changes: FileChange[] = [...renderTemplates({ template: 'docker/project', into: '', context: composeContext(model) })];
  for (const service of model.services) {
    changes.push(...renderTemplates({ template: 'docker/service', into: '', service: service.name, context: dockerfileContext(model, service) }));
  }
  return changes.sort((a, b) => compareStrings(a.path, b.path));
}

/** What a Node healthcheck runs: exit 0 only when /healthz answers 2xx within two seconds. */
const HEALTHCHECK_SCRIPT =
  "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz',{signal:AbortSignal.timeout(2000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";

function dockerfileContext(model: DeployModel, service: ServiceDeploy): Record<string, unknown> {
  // Dockerfiles and ignore files have no escaping helper: paths go through {{json}} (JSON-form instructions);
  // the few bare words (WORKDIR, USER, image names in comments) are DNS labels and numbers, checked here.
  if (!DNS_LABEL.test(service.name) || !DNS_LABEL.test(model.namespace)) throw new Error(`not a DNS label: ${service.name}`);
  const dir = `services/${service.name}`;
  return {
    name: service.name,
    image: service.image,
    nodeImage: model.nodeImage,
    port: service.port,
    uid: model.nodeUid,
    workspace: dir,
    manifest: `${dir}/package.json`,
    serviceDir: `${dir}/`,
    serviceNodeModules: `${dir}/node_modules/`,
    serviceDist: `${dir}/dist/`,
    buildManifest: `/app/${dir}/package.json`,
    buildNodeModules: `/app/${dir}/node_modules/`,
    buildDist: `/app/${dir}/dist/`,
    workdir: `/app/${dir}`,
    // `--workspace packages` selects every workspace under packages/: the runtime every service runs on (always
    // there) and the shared libraries; the root's devDependencies (TypeScript, types) build them.
    installCommand: ['npm', 'ci', '--workspace', 'packages', '--workspace', dir, '--include-workspace-root', '--no-audit', '--no-fund'],
    healthcheck: ['node', '-e', HEALTHCHECK_SCRIPT],
    ignore: ignoreRules(service.name).join('\n'),
  };
}

/**
 * The build context is the workspace root: send only this service, the workspace packages (runtime and shared
 * libraries), the root manifests and the compiler options every tsconfig extends.
 * Later rules win, so the re-included service folder still loses its node_modules, dist and any .env file.
 */
function ignoreRules(service: string): string[] {
  return [
    '*',
    '!package.json',
    '!package-lock.json',
    '!tsconfig.base.json',
    '!packages/',
    `!services/${service}/`,
    '**/node_modules',
    '**/dist',
    '**/coverage',
    '**/*.log',
    '**/.env',
    '**/.env.*',
    '**/*.test.ts',
    '**/.git',
  ];
}

function composeContext(model: DeployModel): Record<string, unknown> {
  return {
    namespace: model.namespace,
    port: model.port,
    gateway: model.gateway,
    gatewayImage: `${model.gateway.image}:${model.dev.tag}`,
    gatewayPort: `${model.gateway.port}:${model.gateway.port}`,
    redis: model.redis,
    redisUser: `${model.redis.uid}:${model.redis.uid}`,
    services: model.services.map((service) => ({
      name: service.name,
      dockerfile: `services/${service.name}/Dockerfile`,
      image: `${service.image}:${model.dev.tag}`,
      user: `${model.nodeUid}:${model.nodeUid}`,
      knownEnv: service.env.filter((e) => e.value !== null).map((e) => ({ name: e.name, value: e.value })),
      unknownEnv: service.env.filter((e) => e.value === null).map((e) => ({ name: e.name })),
      // Compose interpolation: the value comes from the shell or .env; `:?` stops compose when it is missing.
      secretEnv: service.secrets.map((s) => ({ name: s.name, reference: `\${${s.name}:?set ${s.name} in the shell or in .env next to docker-compose.yml}` })),
      usesRedis: service.usesRedis,
    })),
  };
}
