import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import { DEFAULT_SETTINGS, type Plan } from '../model/plan.js';
import { buildPlan } from '../plan/build-plan.js';
import { fixturePath } from '../test-support/temp-project.js';
import { GITHUB_ACTIONS, dependantsOf, dependencyGraph, renderCi } from './deploy-ci.js';
import { isGenerated } from './render-templates.js';
import { actionlint, gitlabReferences, gitlabSchema } from '../test-support/deploy-validators.js';


let plan: Plan;
let root: string;
let workflow: any;
let gitlab: any;

beforeAll(async () => {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  plan = buildPlan(analysis, { settings: DEFAULT_SETTINGS, ...proposeSplit(analysis, DEFAULT_SETTINGS) }, {}).plan;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-ci-'));
  for (const change of [...renderCi(plan, { provider: 'github' }), ...renderCi(plan, { provider: 'gitlab' })]) write(path.join(root, change.path), change.content);
  workflow = YAML.parse(fs.readFileSync(path.join(root, '.github/workflows/ci.yml'), 'utf8'));
  gitlab = YAML.parse(fs.readFileSync(path.join(root, '.gitlab-ci.yml'), 'utf8'));
});

function write(file: string, content: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}



/** Runs a step's script as the runner would (GitHub: bash -e; GitLab: sh -e), in `cwd`; throws with its output on failure. */
function runStep(script: string, cwd: string, env: Record<string, string>, shell = 'bash'): string {
  const file = write(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-step-')), 'step.sh'), script);
  const run = spawnSync(shell, ['-e', file], { cwd, env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), ...env }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`step failed (${run.status}): ${run.stdout}${run.stderr}`);
  return run.stdout;
}

describe('renderCi for fixtures/shop-ts: GitHub Actions', () => {
  it('writes .github/workflows/ci.yml (relative to the repository root), marked as generated and deterministic', () => {
    const changes = renderCi(plan, { provider: 'github' });
    expect(changes.map((c) => c.path)).toEqual(['.github/workflows/ci.yml']);
    expect(isGenerated(changes[0]!.content)).toBe(true);
    expect(renderCi(plan, { provider: 'github' })[0]!.content).toBe(changes[0]!.content);
  });

  it('actionlint rejects a broken workflow and accepts the generated one (exactly one file linted)', () => {
    const generated = fs.readFileSync(path.join(root, '.github/workflows/ci.yml'), 'utf8');
    const brokenDir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-ci-broken-'));
    const broken = write(
      path.join(brokenDir, 'ci.yml'),
      generated.replace('needs: [publish]', 'needs: [publsh]').replace('timeout-minutes: 5', 'timeout: 5').replace("needs.changes.outputs.any == 'true'", "needs.change.outputs.any == 'true'"),
    );
    const rejected = actionlint(broken);
    expect(rejected.code).not.toBe(0);
    expect(rejected.output).toContain('Checking 1 workflow file(s)');
    expect(rejected.output).toContain('needs job "publsh" which does not exist');
    expect(rejected.output).toContain('unexpected key "timeout"');
    expect(rejected.output).toMatch(/property "change" is not defined/);

    const accepted = actionlint(path.join(root, '.github/workflows/ci.yml'));
    expect(accepted.output).toContain('Checking 1 workflow file(s)');
    expect(accepted.output).not.toContain('No workflow files found');
    expect(accepted.code).toBe(0);
  });

  it('pins every action to a full commit SHA with its release tag in a comment', () => {
    const text = fs.readFileSync(path.join(root, '.github/workflows/ci.yml'), 'utf8');
    const uses = [...text.matchAll(/uses: (\S+)(.*)/g)];
    expect(uses.length).toBeGreaterThan(0);
    for (const [, ref, comment] of uses) {
      expect(ref).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      expect(comment).toMatch(/^ # v\d+\.\d+\.\d+$/);
    }
    expect(new Set(uses.map((u) => `${u[1]}${u[2]}`))).toEqual(new Set(Object.values(GITHUB_ACTIONS).map((a) => `${a.uses} # ${a.version}`)));
  });

  it('grants no permission at workflow level and the least each job needs', () => {
    expect(workflow.permissions).toEqual({});
    const permissions = Object.fromEntries(Object.entries<any>(workflow.jobs).map(([name, job]) => [name, job.permissions]));
    expect(permissions).toEqual({
      changes: { contents: 'read' },
      boundaries: { contents: 'read' },
      service: { contents: 'read' },
      gateway: { contents: 'read' },
      publish: { contents: 'read', packages: 'write' },
      deploy: { contents: 'read' },
    });
    for (const job of Object.values<any>(workflow.jobs)) {
      for (const step of job.steps.filter((s: any) => s.uses?.startsWith('actions/checkout@'))) expect(step.with['persist-credentials']).toBe(false);
    }
  });

  it('tests each affected service in a matrix, checks boundaries against the plan, and deploys only from main behind the production environment', () => {
    expect(workflow.on).toEqual({ pull_request: { branches: ['main'] }, push: { branches: ['main'] } });
    expect(workflow.env).toEqual({ SCAFFOLD_DIR: 'decomposed', PLAN_FILE: 'decompose.plan.yaml', NAMESPACE: 'shop-ts' });
    const { service, boundaries, publish, deploy } = workflow.jobs;
    expect(service.strategy.matrix.service).toBe('${{ fromJSON(needs.changes.outputs.services) }}');
    expect(service.steps.map((s: any) => s.run).filter(Boolean)).toEqual([
      'npm ci --no-audit --no-fund',
      'npm run typecheck -w "services/$SERVICE"',
      'npm test -w "services/$SERVICE"',
      'npm run build -w "services/$SERVICE"',
      'docker build --file "services/$SERVICE/Dockerfile" --tag "$NAMESPACE-$SERVICE:$GITHUB_SHA" .',
    ]);
    expect(boundaries.steps.at(-1).run).toBe('npx --no -- decompose check --plan "$PLAN_FILE" --format github');
    expect(publish.if).toBe("github.event_name == 'push'");
    expect(publish.needs).toEqual(['boundaries', 'service']);
    expect(publish.strategy.matrix.include).toEqual([
      ...plan.services.map((s) => ({ image: `shop-ts-${s.name}`, dockerfile: `services/${s.name}/Dockerfile`, context: '.' })).sort((a, b) => (a.image < b.image ? -1 : 1)),
      { image: 'shop-ts-gateway', dockerfile: 'gateway/Dockerfile', context: 'gateway' },
    ]);
    expect(publish.steps.at(-1).run).toContain('docker push "$image"');
    expect(deploy).toMatchObject({ needs: ['publish'], if: "github.event_name == 'push'", environment: 'production' });
  });

  describe('the matrix job', () => {
    let repo: string;
    let base: string;
    const affected = () => workflow.jobs.changes.steps.find((s: any) => s.id === 'affected');

    beforeAll(() => {
      repo = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-ci-repo-'));
      const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
      git('init', '-q', '-b', 'main');
      git('config', 'user.email', 'ci@example.test');
      git('config', 'user.name', 'ci');
      write(path.join(repo, 'README.md'), 'monolith\n');
      git('add', '.');
      git('commit', '-q', '-m', 'base');
      base = git('rev-parse', 'HEAD');
    });

    /** Commits the given files on a branch from the base and runs the step as on a pull request. */
    let lastGateway = '';
    function servicesFor(files: string[], event = 'pull_request'): string[] {
      const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
      git('checkout', '-q', '-B', `change-${files.length}-${event}`, base);
      for (const file of files) write(path.join(repo, file), `${file}\n`);
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', 'change');
      const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-runner-'));
      const output = path.join(temp, 'output');
      fs.writeFileSync(output, '');
      const step = affected();
      runStep(step.run, repo, { ...workflow.env, ...step.env, EVENT_NAME: event, BASE_SHA: base, RUNNER_TEMP: temp, GITHUB_OUTPUT: output });
      const lines = Object.fromEntries(fs.readFileSync(output, 'utf8').trim().split('\n').map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
      const services = JSON.parse(lines.services!) as string[];
      expect(lines.any).toBe(String(services.length > 0));
      lastGateway = lines.gateway!;
      return services;
    }

    it('takes the changed services and every service that depends on them, from the plan', () => {
      const graph = dependencyGraph(plan);
      expect(dependantsOf(graph, 'inventory')).toEqual(['cart', 'catalog', 'inventory', 'orders', 'reports']);
      expect(servicesFor(['decomposed/services/inventory/src/stock.ts'])).toEqual(['cart', 'catalog', 'inventory', 'orders', 'reports']);
      expect(lastGateway).toBe('false');
      expect(servicesFor(['decomposed/services/reports/src/a.ts', 'decomposed/services/users/src/b.ts'])).toEqual(['auth', 'reports', 'users']);
      expect(servicesFor(['decomposed/gateway/nginx.conf'])).toEqual([]);
      expect(lastGateway).toBe('true');
    });

    it('takes every service for shared packages, the workspace root or a push; none for monolith-only changes', () => {
      const all = plan.services.map((s) => s.name).sort();
      expect(servicesFor(['decomposed/packages/shared/src/errors.ts'])).toEqual(all);
      expect(servicesFor(['decomposed/package-lock.json'])).toEqual(all);
      expect(servicesFor(['src/orders/routes.ts'])).toEqual([]);
      expect(servicesFor([], 'push')).toEqual(all);
      expect(lastGateway).toBe('true');
    });
  });

  it('deploys the prod overlay with every image pinned to the pushed one, whatever registry and tag the overlay had', () => {
    const step = workflow.jobs.deploy.steps.find((s: any) => s.name === 'Render the prod overlay with every image pinned to this commit');
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-runner-'));
    const env = { GITHUB_REPOSITORY_OWNER: 'Acme', GITHUB_SHA: 'a1b2c3', RUNNER_TEMP: temp };
    const pinned = renderRelease((scaffold) => runStep(step.run, scaffold, env), () => path.join(temp, 'release.yaml'));
    expect(pinned.filter((i) => i.startsWith('ghcr.io/acme/'))).toEqual([...imageNames().map((n) => `ghcr.io/acme/${n}:a1b2c3`)]);
    expect(pinned).toContain('redis:7.4.2-bookworm');
    expect(pinned).toContain('shop-ts-orders-sidecar:1.0.0');
  });

  it('refuses to deploy when the prod overlay runs no container of one of the images', () => {
    const step = workflow.jobs.deploy.steps.find((s: any) => s.name === 'Render the prod overlay with every image pinned to this commit');
    const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-runner-'));
    expect(() => renderRelease((scaffold) => runStep(step.run, scaffold, { GITHUB_REPOSITORY_OWNER: 'acme', GITHUB_SHA: 'a1b2c3', RUNNER_TEMP: temp }), () => path.join(temp, 'release.yaml'), ['shop-ts-gateway'])).toThrow(
      /no container of the prod overlay runs shop-ts-gateway/,
    );
  });
});

/** The images the deploy pins: every service's and the gateway's. */
function imageNames(): string[] {
  return [...plan.services.map((s) => `shop-ts-${s.name}`), 'shop-ts-gateway'].sort();
}

/**
 * A prod overlay shaped like the Kubernetes generator's (images renamed to another registry for half of them, tags
 * REPLACE_WITH_RELEASE_TAG, plus a Redis and a look-alike sidecar that must stay), a deploy script run in it, and the
 * container images of the rendered release.
 */
function renderRelease(run: (scaffold: string) => unknown, release: (scaffold: string) => string, leaveOut: string[] = []): string[] {
  const scaffold = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-release-'));
  const base = path.join(scaffold, 'deploy/k8s/base');
  const images = imageNames().filter((n) => !leaveOut.includes(n));
  const deployment = (name: string, containers: Array<{ name: string; image: string }>) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers } } },
  });
  const objects = images.map((image) => deployment(image, [{ name: 'main', image }]));
  objects.push(deployment('extra', [{ name: 'redis', image: 'redis:7.4.2-bookworm' }, { name: 'sidecar', image: 'shop-ts-orders-sidecar:1.0.0' }]));
  write(path.join(base, 'deployments.yaml'), objects.map((o) => YAML.stringify(o)).join('---\n'));
  write(path.join(base, 'kustomization.yaml'), YAML.stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'shop-ts', resources: ['deployments.yaml'] }));
  write(
    path.join(scaffold, 'deploy/k8s/overlays/prod/kustomization.yaml'),
    YAML.stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: ['../../base'],
      images: images.map((name, i) => ({ name, ...(i % 2 === 0 ? { newName: `registry.example.com/shop/${name}` } : {}), newTag: 'REPLACE_WITH_RELEASE_TAG' })),
    }),
  );
  run(scaffold);
  const file = release(scaffold);
  const rendered = fs.readFileSync(path.isAbsolute(file) ? file : path.join(scaffold, file), 'utf8');
  return YAML.parseAllDocuments(rendered).flatMap((d) => (d.toJSON() as any).spec.template.spec.containers.map((c: { image: string }) => c.image)).sort();
}

describe('renderCi for fixtures/shop-ts: GitLab CI', () => {
  it('writes .gitlab-ci.yml; GitLab\'s ci.json schema rejects a broken file and accepts it', () => {
    expect(renderCi(plan, { provider: 'gitlab' }).map((c) => c.path)).toEqual(['.gitlab-ci.yml']);
    const validate = gitlabSchema();
    const broken = structuredClone(gitlab);
    broken.boundaries.scirpt = broken.boundaries.script;
    broken['deploy:production'].rules[0].when = 'manually';
    broken['test:orders'].needs = 'boundaries';
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    expect(paths).toEqual(expect.arrayContaining(['/boundaries must NOT have additional properties', '/deploy:production/rules/0/when must be equal to one of the allowed values', '/test:orders/needs must be array']));

    const ok = validate(gitlab);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    const dangling = structuredClone(gitlab);
    dangling['image:orders'].needs = ['test:order', 'boundaries'];
    dangling['test:orders'].extends = '.servic';
    expect(validate(dangling)).toBe(true);
    expect(gitlabReferences(dangling)).toEqual(['test:orders.extends: no job .servic', 'image:orders.needs: no job test:order']);
    expect(gitlabReferences(gitlab)).toEqual([]);
  });

  it('has the same stages: boundary check, per-service tests and images on changes, a manual deploy on the default branch', () => {
    expect(gitlab.stages).toEqual(['check', 'test', 'build', 'deploy']);
    expect(gitlab.workflow.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }, { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH' }]);
    expect(gitlab.boundaries.script.at(-1)).toBe('npx --no -- decompose check --plan "$PLAN_FILE"');
    for (const service of plan.services) {
      expect(gitlab[`test:${service.name}`]).toMatchObject({ extends: '.service', variables: { SERVICE: service.name } });
      expect(gitlab[`image:${service.name}`].needs).toEqual([`test:${service.name}`, 'boundaries']);
    }
    // orders is re-tested when it, anything it depends on (directly or not) or shared code changes.
    const paths = gitlab['test:orders'].rules[0].changes.paths as string[];
    expect(paths.filter((p) => p.startsWith('decomposed/services/'))).toEqual(
      ['cart', 'catalog', 'inventory', 'notifications', 'orders', 'payments'].map((s) => `decomposed/services/${s}/**/*`),
    );
    expect(paths).toContain('decomposed/packages/**/*');
    expect(gitlab['.service'].script.slice(2)).toEqual(['npm run typecheck -w "services/$SERVICE"', 'npm test -w "services/$SERVICE"', 'npm run build -w "services/$SERVICE"']);
    const deploy = gitlab['deploy:production'];
    expect(deploy.rules).toEqual([{ if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', when: 'manual' }]);
    expect(deploy.environment).toEqual({ name: 'production' });
    expect(deploy.needs).toEqual([...plan.services.map((s) => `image:${s.name}`).sort(), 'image:gateway']);
    expect(gitlab['image:gateway'].variables).toEqual({ IMAGE_NAME: 'shop-ts-gateway', DOCKERFILE: 'gateway/Dockerfile', CONTEXT: 'gateway' });
    expect(gitlab['image:orders'].variables).toEqual({ IMAGE_NAME: 'shop-ts-orders', DOCKERFILE: 'services/orders/Dockerfile', CONTEXT: '.' });
    for (const image of [gitlab.default.image, gitlab['.image'].image, ...gitlab['.image'].services, deploy.image.name]) expect(image).toMatch(/:\d+\.\d+\.\d+(-dind)?$/);
  });
});

describe('renderCi for fixtures/shop-ts: GitLab deploy', () => {
  it('pins every image to the one the image jobs pushed (the script run with sh)', () => {
    const script = (gitlab['deploy:production'].script as string[]).slice(1, 3).join('\n');
    const pinned = renderRelease((scaffold) => runStep(script, scaffold, { CI_REGISTRY_IMAGE: 'registry.gitlab.example/acme/shop', CI_COMMIT_SHA: 'f00d' }, 'sh'), () => 'release.yaml');
    expect(pinned.filter((i) => i.startsWith('registry.gitlab.example/'))).toEqual(imageNames().map((n) => `registry.gitlab.example/acme/shop/${n}:f00d`));
    expect(pinned).toContain('redis:7.4.2-bookworm');
  });
});

describe('renderCi options', () => {
  it('takes the plan file and scaffold folder from options', () => {
    const [github] = renderCi(plan, { provider: 'github', planFile: 'docs/split.plan.yaml', scaffoldDir: '.' });
    const parsed = YAML.parse(github!.content);
    expect(parsed.env).toMatchObject({ PLAN_FILE: 'docs/split.plan.yaml', SCAFFOLD_DIR: '.' });
    expect(parsed.jobs.service.defaults.run['working-directory']).toBe('.');
    const [lab] = renderCi(plan, { provider: 'gitlab', scaffoldDir: '.' });
    expect(YAML.parse(lab!.content)['test:orders'].rules[0].changes.paths).toContain('services/orders/**/*');
  });

  it('refuses an unknown provider and paths that leave the repository or need quoting', () => {
    expect(() => renderCi(plan, { provider: 'jenkins' as 'github' })).toThrow(/DEC-077|unknown CI provider/);
    expect(() => renderCi(plan, { provider: 'github', planFile: '../plan.yaml' })).toThrow(/must be a path relative/);
    expect(() => renderCi(plan, { provider: 'github', scaffoldDir: 'out dir' })).toThrow(/must be a path relative/);
    expect(() => renderCi(plan, { provider: 'gitlab', defaultBranch: 'main; rm -rf /' })).toThrow(/default branch/);
  });
});
