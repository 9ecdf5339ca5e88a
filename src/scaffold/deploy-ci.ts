import type { FileChange } from '../model/file-change.js';
import { DNS_LABEL, type Plan } from '../model/plan.js';
import { compareStrings } from '../util/compare.js';
import { UserError } from '../util/errors.js';
import { GATEWAY_DIR, GATEWAY_NAME, toDnsLabel } from './deploy-model.js';
import { renderTemplates } from './render-templates.js';

/**
 * CI for the decomposed system, GitHub Actions or GitLab CI:
 * - pull/merge requests: `npm ci`, type-check, test and build only the services whose files changed plus every
 *   service that depends on them (a change under `packages/` or to the workspace root rebuilds all), `decompose
 *   check` for boundary drift, and an image build;
 * - the default branch: the same for every service, then images pushed with the commit SHA as tag, and the
 *   kustomize prod overlay applied with those tags behind a manual approval (`production` environment).
 *
 * Assumptions, all overridable through {@link CiOptions}:
 * - The repository root is the monolith's root: the plan sits there (`decompose.plan.yaml`), the monolith's own
 *   `package-lock.json` lists decompose as a devDependency (so `npx decompose` runs the locked version), and the
 *   scaffold lives in `decomposed/`. The returned paths (`.github/workflows/ci.yml`, `.gitlab-ci.yml`) are therefore
 *   relative to the REPOSITORY root, where the CI providers look for them, not to the scaffold root.
 * - The scaffold root is an npm workspace root with a committed `package-lock.json` (run `npm install` there once and
 *   commit the lockfile: `npm ci` needs it). As the container and Kubernetes generators write them: each service
 *   has a Dockerfile at `services/<name>/Dockerfile` built with the scaffold root as context, the gateway one at
 *   `gateway/Dockerfile` built from `gateway/`; images are named `<project>-<service>` and `<project>-gateway`;
 *   Deployments are labelled `app.kubernetes.io/part-of=<project>` in the namespace `<project>` and assembled by
 *   `deploy/k8s/overlays/prod`. The deploy job renders that overlay and points every one of these images at the
 *   registry it pushed to, tagged with the commit SHA (whatever name and tag the overlay had), and fails if one is
 *   missing.
 */
export interface CiOptions {
  provider: CiProvider;
  /** The plan, relative to the repository root. Default `decompose.plan.yaml`. */
  planFile?: string;
  /** The scaffold root, relative to the repository root (`.` when the scaffold is the repository). Default `decomposed`. */
  scaffoldDir?: string;
  /** Branch whose pushes publish and deploy. Default `main` (GitLab uses the project's default branch). */
  defaultBranch?: string;
  /** Node.js version for the jobs (an exact version, also the tag of the GitLab job image). */
  nodeVersion?: string;
}

export type CiProvider = 'github' | 'gitlab';
export const CI_PROVIDERS: readonly CiProvider[] = ['github', 'gitlab'];

export const CI_DEFAULTS = {
  planFile: 'decompose.plan.yaml',
  scaffoldDir: 'decomposed',
  defaultBranch: 'main',
  nodeVersion: '20.20.2',
} as const;

/**
 * Every action is pinned to the full commit SHA of a release tag (the tag is kept in a comment for people and
 * Dependabot). Checked against the actions' own repositories: the tag points at this commit.
 */
export const GITHUB_ACTIONS = {
  checkout: { uses: 'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', version: 'v7.0.1' },
  setupNode: { uses: 'actions/setup-node@820762786026740c76f36085b0efc47a31fe5020', version: 'v7.0.0' },
} as const;

/** Container images of the GitLab jobs, each an exact version tag. */
export const GITLAB_JOB_IMAGES = {
  docker: 'docker:27.5.1',
  dockerDaemon: 'docker:27.5.1-dind',
  kubectl: 'alpine/k8s:1.32.3',
} as const;

/** Renders the CI configuration; paths are relative to the repository root (see {@link CiOptions}). */
export function renderCi(plan: Plan, options: CiOptions): FileChange[] {
  if (!CI_PROVIDERS.includes(options.provider)) {
    throw new UserError('DEC-077', `--ci ${String(options.provider)}: unknown CI provider`, { hint: `Use one of: ${CI_PROVIDERS.join(', ')}.` });
  }
  const planFile = checkedPath(options.planFile ?? CI_DEFAULTS.planFile, 'plan file', false);
  const scaffoldDir = checkedPath(options.scaffoldDir ?? CI_DEFAULTS.scaffoldDir, 'scaffold folder', true);
  const defaultBranch = checked(options.defaultBranch ?? CI_DEFAULTS.defaultBranch, /^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'default branch');
  const nodeVersion = checked(options.nodeVersion ?? CI_DEFAULTS.nodeVersion, /^\d+(\.\d+){0,2}$/, 'Node.js version');
  for (const service of plan.services) {
    // Service names end up in shell, YAML and kustomize files: the plan file guarantees DNS labels, checked again here.
    if (!DNS_LABEL.test(service.name) || service.name === GATEWAY_NAME) {
      throw new UserError('DEC-078', `service name ${JSON.stringify(service.name)} is not usable: it must be a DNS label other than "${GATEWAY_NAME}"`, {
        hint: 'Rename the service in the plan (lowercase letters, digits and -).',
      });
    }
  }
  const namespace = toDnsLabel(plan.project) || 'app';
  const root = scaffoldDir === '.' ? '' : `${scaffoldDir}/`;
  const graph = dependencyGraph(plan);
  const services = [...graph.keys()].map((name) => ({
    name,
    image: `${namespace}-${name}`,
    dockerfile: `services/${name}/Dockerfile`,
    // A service is tested when its own files, those of a service it depends on, or shared code changed.
    changePaths: [...closure(graph, name)].map((s) => `${root}services/${s}/**/*`),
  }));
  // Every image the deploy pins: the services' (scaffold root as build context) and the gateway's.
  const builds = [
    ...services.map((s) => ({ image: s.image, dockerfile: s.dockerfile, context: '.' })),
    { image: `${namespace}-${GATEWAY_NAME}`, dockerfile: `${GATEWAY_DIR}/Dockerfile`, context: GATEWAY_DIR },
  ];
  const context = {
    project: plan.project,
    namespace,
    planFile,
    scaffoldDir,
    defaultBranch,
    nodeVersion,
    lockFile: `${root}package-lock.json`,
    services,
    builds,
    gateway: { dir: GATEWAY_DIR, dockerfile: `${GATEWAY_DIR}/Dockerfile`, image: `${namespace}-${GATEWAY_NAME}`, changePath: `${root}${GATEWAY_DIR}/**/*` },
    dependantsJson: JSON.stringify(Object.fromEntries([...graph.keys()].map((name) => [name, dependantsOf(graph, name)]))),
    // Changes here affect every service.
    sharedPaths: [`${root}packages/**/*`, `${root}package.json`, `${root}package-lock.json`, `${root}tsconfig*.json`],
    actions: GITHUB_ACTIONS,
    jobImages: { ...GITLAB_JOB_IMAGES, node: `node:${nodeVersion}` },
  };
  return renderTemplates({ template: `ci/${options.provider}`, into: '', context });
}

/** service -> the services it may call (unknown names dropped), every list sorted. */
export function dependencyGraph(plan: Plan): Map<string, string[]> {
  const names = new Set(plan.services.map((s) => s.name));
  const graph = new Map<string, string[]>();
  for (const service of [...plan.services].sort((a, b) => compareStrings(a.name, b.name))) {
    graph.set(service.name, [...new Set(service.dependsOn.filter((d) => names.has(d) && d !== service.name))].sort(compareStrings));
  }
  return graph;
}

/** The service and everything it depends on, directly or not (cycles allowed). */
function closure(graph: Map<string, string[]>, start: string): string[] {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of graph.get(queue.shift()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return [...seen].sort(compareStrings);
}

/** The service and every service that depends on it, directly or not: what a change to it must re-test. */
export function dependantsOf(graph: Map<string, string[]>, service: string): string[] {
  return [...graph.keys()].filter((candidate) => closure(graph, candidate).includes(service)).sort(compareStrings);
}

function checked(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new UserError('DEC-078', `${what} ${JSON.stringify(value)} is not valid here`, { hint: `It must match ${pattern.source}.` });
  return value;
}

/** A repository-relative POSIX path without `..`, spaces or shell/YAML metacharacters. */
function checkedPath(value: string, what: string, folder: boolean): string {
  const normalised = folder ? value.replace(/\/+$/, '') || '.' : value;
  if (normalised === '.' && folder) return '.';
  const ok = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(normalised) && !normalised.split('/').some((s) => s === '..' || s === '.');
  if (!ok) {
    throw new UserError('DEC-078', `${what} ${JSON.stringify(value)} must be a path relative to the repository root`, {
      hint: 'Use forward slashes, no "..", and only letters, digits, ".", "_" and "-" (e.g. decompose.plan.yaml or decomposed).',
    });
  }
  return normalised;
}
