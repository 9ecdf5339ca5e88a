import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze/analyze.js';
import { proposeSplit } from '../cluster/propose.js';
import type { Analysis } from '../model/analysis.js';
import type { FileChange } from '../model/file-change.js';
import { DEFAULT_SETTINGS, type Plan } from '../model/plan.js';
import { buildPlan } from '../plan/build-plan.js';
import { fixturePath, repoRoot } from '../test-support/temp-project.js';
import { UserError } from '../util/errors.js';
import { renderDocker } from './deploy-docker.js';
import { dockerInstructions } from '../test-support/deploy-validators.js';

const OPTIONS = { host: 'shop.example.com' };
const DOCKERFILE_UTILS = path.join(repoRoot, 'node_modules', '.bin', 'dockerfile-utils');

/** `dockerfile-utils lint FILE`: exit code and every diagnostic it prints (errors and warnings). */
async function lintDockerfile(file: string): Promise<{ exitCode: number; output: string }> {
  const result = await execa(DOCKERFILE_UTILS, ['lint', file], { reject: false, all: true });
  return { exitCode: result.exitCode ?? -1, output: (result.all ?? '').trim() };
}

type Compose = { name?: string; services?: Record<string, any>; volumes?: Record<string, unknown> };

/**
 * Structure of a compose file (no Docker engine here to run `docker compose config`): every service builds or
 * names an image, depends only on services that exist and without cycles, runs read-only without capabilities,
 * and secret-like variables are interpolated from the environment, never written.
 */
function checkCompose(compose: Compose, secretNames: string[], root: string): string[] {
  const problems: string[] = [];
  const services = compose.services ?? {};
  if (Object.keys(services).length === 0) problems.push('services: none');
  for (const [name, service] of Object.entries(services)) {
    const at = `services.${name}`;
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) problems.push(`${at}: not a compose service name`);
    if (!service || typeof service !== 'object') {
      problems.push(`${at}: not a mapping`);
      continue;
    }
    if (!service.image && !service.build) problems.push(`${at}: neither image nor build`);
    if (service.build?.dockerfile && !fs.existsSync(path.join(root, service.build.context ?? '.', service.build.dockerfile))) problems.push(`${at}.build.dockerfile: ${service.build.dockerfile} does not exist`);
    if (service.read_only !== true) problems.push(`${at}.read_only: not true`);
    if (!(service.cap_drop ?? []).includes('ALL')) problems.push(`${at}.cap_drop: does not drop ALL`);
    if (String(service.user ?? '').startsWith('0') || service.user === 'root') problems.push(`${at}.user: root`);
    const dependsOn = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
    for (const dep of dependsOn) if (!(dep in services)) problems.push(`${at}.depends_on: unknown service ${dep}`);
    for (const [key, value] of Object.entries((service.environment ?? {}) as Record<string, unknown>)) {
      if (value !== null && typeof value !== 'string') problems.push(`${at}.environment.${key}: not a string`);
      if (secretNames.includes(key) && !(typeof value === 'string' && new RegExp(`^\\$\\{${key}:\\?[^}]*\\}$`).test(value))) problems.push(`${at}.environment.${key}: a secret not taken from the environment`);
    }
  }
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (name: string, trail: string[]) => {
    if (done.has(name) || !services[name]) return;
    if (visiting.has(name)) {
      problems.push(`depends_on cycle: ${[...trail, name].join(' -> ')}`);
      return;
    }
    visiting.add(name);
    for (const dep of Object.keys(services[name].depends_on ?? {})) visit(dep, [...trail, name]);
    visiting.delete(name);
    done.add(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
  return problems;
}

function writeTree(changes: FileChange[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-docker-'));
  for (const change of changes) {
    fs.mkdirSync(path.dirname(path.join(root, change.path)), { recursive: true });
    fs.writeFileSync(path.join(root, change.path), change.content);
  }
  return root;
}

async function shopPlan(): Promise<{ plan: Plan; analysis: Analysis }> {
  const analysis = await analyze({ dir: fixturePath('shop-ts') });
  const { plan } = buildPlan(analysis, { settings: DEFAULT_SETTINGS, ...proposeSplit(analysis, DEFAULT_SETTINGS) });
  return { plan, analysis };
}

describe('the Dockerfile linter', () => {
  it('rejects a broken Dockerfile and accepts a sound one', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-dockerfile-'));
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FORM node:22\nRUNN npm ci\nEXPOSE http\nCMD ["node", "dist/main.js"]\n');
    const broken = await lintDockerfile(path.join(dir, 'Dockerfile'));
    expect(broken.exitCode).not.toBe(0);
    expect(broken.output).toMatch(/Unknown instruction: FORM/);
    expect(broken.output).toMatch(/Invalid containerPort: http/);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM node:22.14.0-bookworm-slim\nUSER 1000:1000\nCMD ["node", "dist/main.js"]\n');
    expect(await lintDockerfile(path.join(dir, 'Dockerfile'))).toEqual({ exitCode: 0, output: '' });
  });

  it('the compose check rejects unknown dependencies, cycles, written secrets and writable root file systems', () => {
    const compose: Compose = {
      services: {
        a: { image: 'a', read_only: true, cap_drop: ['ALL'], depends_on: { b: { condition: 'service_started' } }, environment: { JWT_SECRET: 'hunter2' } },
        b: { image: 'b', read_only: true, cap_drop: ['ALL'], depends_on: { a: {}, ghost: {} } },
        c: { read_only: false },
      },
    };
    expect(checkCompose(compose, ['JWT_SECRET'], os.tmpdir())).toEqual([
      'services.a.environment.JWT_SECRET: a secret not taken from the environment',
      'services.b.depends_on: unknown service ghost',
      'services.c: neither image nor build',
      'services.c.read_only: not true',
      'services.c.cap_drop: does not drop ALL',
      'depends_on cycle: a -> b -> a',
    ]);
  });
});

describe('renderDocker on fixtures/shop-ts', async () => {
  const { plan, analysis } = await shopPlan();
  const changes = renderDocker(plan, analysis, OPTIONS);
  const root = writeTree(changes);
  const serviceNames = plan.services.map((s) => s.name).sort();
  const secretNames = [...analysis.env.filter((e) => e.secretLike).map((e) => e.name), 'INTERNAL_TOKEN'];

  it('writes a Dockerfile and ignore files per service and one docker-compose.yml', () => {
    expect(changes.map((c) => c.path)).toEqual(
      ['docker-compose.yml', ...serviceNames.flatMap((s) => [`services/${s}/.dockerignore`, `services/${s}/Dockerfile`, `services/${s}/Dockerfile.dockerignore`])].sort(),
    );
  });

  it('lints every Dockerfile clean with dockerfile-utils', async () => {
    const results = await Promise.all(serviceNames.map(async (s) => ({ s, ...(await lintDockerfile(path.join(root, 'services', s, 'Dockerfile'))) })));
    for (const result of results) expect(result, result.s).toEqual({ s: result.s, exitCode: 0, output: '' });
  });

  const copies_ = (stage: Array<{ keyword: string; args: string }>) => stage.filter((s) => s.keyword === 'COPY').map((c) => JSON.parse(c.args.replace('--from=build ', ''))[0] as string);

  it('builds in stages from a pinned Node LTS image and runs only the output, as a non-root user, with a node healthcheck', () => {
    for (const service of serviceNames) {
      const steps = dockerInstructions(fs.readFileSync(path.join(root, 'services', service, 'Dockerfile'), 'utf8'));
      const froms = steps.filter((s) => s.keyword === 'FROM');
      expect(froms.length).toBe(2);
      for (const from of froms) expect(from.args).toMatch(/^node:(20|22)\.\d+\.\d+-bookworm-slim AS \w+$/);
      const runtime = steps.slice(steps.lastIndexOf(froms[1]!));
      const build = steps.slice(0, steps.lastIndexOf(froms[1]!));
      const runs = build.filter((s) => s.keyword === 'RUN').map((s) => JSON.parse(s.args) as string[]);
      expect(runs[0]).toEqual(['npm', 'ci', '--workspace', 'packages', '--workspace', `services/${service}`, '--include-workspace-root', '--no-audit', '--no-fund']);
      expect(runs).toContainEqual(['npm', 'run', 'build', '--workspace', `services/${service}`]);
      expect(runs).toContainEqual(['npm', 'ci', '--omit=dev', '--workspace', `services/${service}`, '--no-audit', '--no-fund']);
      expect(build.filter((s) => s.keyword === 'COPY').map((s) => JSON.parse(s.args) as string[])[0]).toEqual(['package.json', 'package-lock.json', 'tsconfig.base.json', './']);
      // packages/runtime always exists: the packages are installed and shipped whatever the plan's libraries.
      expect(build.filter((s) => s.keyword === 'COPY').map((s) => JSON.parse(s.args) as string[])[1]).toEqual(['packages/', 'packages/']);
      expect(copies_(runtime)).toContain('/app/packages/');
      // The runtime stage copies from the build stage only, never the sources.
      const copies = runtime.filter((s) => s.keyword === 'COPY');
      for (const copy of copies) expect(copy.args).toMatch(/^--from=build /);
      expect(copies.map((c) => JSON.parse(c.args.replace('--from=build ', ''))[0])).toContain(`/app/services/${service}/dist/`);
      expect(copies.some((c) => c.args.includes('/src'))).toBe(false);
      const user = runtime.filter((s) => s.keyword === 'USER').at(-1)!;
      expect(user.args).toMatch(/^[1-9]\d*:[1-9]\d*$/);
      expect(runtime.findIndex((s) => s.keyword === 'USER')).toBeLessThan(runtime.findIndex((s) => s.keyword === 'CMD'));
      const healthcheck = runtime.find((s) => s.keyword === 'HEALTHCHECK')!;
      const probe = JSON.parse(healthcheck.args.slice(healthcheck.args.indexOf('CMD ') + 4)) as string[];
      expect(probe.slice(0, 2)).toEqual(['node', '-e']);
      expect(probe[2]).toContain('/healthz');
      expect(JSON.parse(runtime.find((s) => s.keyword === 'CMD')!.args)).toEqual(['node', 'dist/main.js']);
      expect(runtime.find((s) => s.keyword === 'WORKDIR' && s.args.includes('services'))!.args).toBe(`/app/services/${service}`);
      expect(runtime.find((s) => s.keyword === 'EXPOSE')!.args).toBe('8080');
    }
  });

  it('keeps other services, node_modules, dist and .env files out of the build context', () => {
    for (const service of serviceNames) {
      for (const file of ['.dockerignore', 'Dockerfile.dockerignore']) {
        const rules = fs.readFileSync(path.join(root, 'services', service, file), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
        expect(rules[0]).toBe('*');
        expect(rules).toContain(`!services/${service}/`);
        expect(rules.filter((r) => r.startsWith('!services/'))).toEqual([`!services/${service}/`]);
        // Every tsconfig of the workspace extends the root's compiler options.
        expect(rules).toEqual(expect.arrayContaining(['!package.json', '!package-lock.json', '!tsconfig.base.json', '!packages/']));
        // Later rules win: the exclusions must come after the re-included folders.
        for (const rule of ['**/node_modules', '**/dist', '**/.env', '**/.env.*']) expect(rules.indexOf(rule)).toBeGreaterThan(rules.indexOf(`!services/${service}/`));
      }
    }
  });

  it('composes every service, the gateway and Redis, with secrets from the environment only', () => {
    const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    const compose = YAML.parse(text) as Compose;
    expect(checkCompose(compose, secretNames, root)).toEqual([]);
    expect(Object.keys(compose.services!).sort()).toEqual([...serviceNames, 'gateway', 'redis'].sort());
    expect(compose.name).toBe('shop-ts');
    for (const service of plan.services) {
      const entry = compose.services![service.name];
      expect(entry.build).toEqual({ context: '.', dockerfile: `services/${service.name}/Dockerfile` });
      expect(entry.environment.PORT).toBe('8080');
      expect(entry.ports).toBeUndefined();
      for (const to of service.dependsOn) expect(entry.environment[`${to.toUpperCase().replace(/-/g, '_')}_URL`]).toBe(`http://${to}:8080`);
      expect(entry.environment.INTERNAL_TOKEN).toMatch(/^\$\{INTERNAL_TOKEN:\?/);
    }
    // Every service's runtime caches in Redis.
    for (const name of serviceNames) {
      expect(compose.services![name].environment.REDIS_URL).toBe('redis://redis:6379');
      expect(compose.services![name].depends_on).toEqual({ redis: { condition: 'service_healthy' } });
    }
    expect(compose.services!.gateway.ports).toEqual(['8080:8080']);
    expect(compose.services!.redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    // Unknown plain values pass through (null) instead of an empty string that would defeat the code's `??` defaults.
    expect(compose.services!.orders.environment.LOG_LEVEL).toBeNull();
    for (const value of ['dev-only-jwt-secret-change-me', 'sk_test_local_fake', 'dev-smtp-password', 'admin-password-123']) {
      for (const change of changes) expect(change.content.includes(value), `${value} in ${change.path}`).toBe(false);
    }
  });

  it('renders a hostile project name into a valid compose file and refuses hostile service names', () => {
    const twisted: Plan = structuredClone(plan);
    twisted.project = `Shop "TS": {{x}}\n- injected: [`;
    const compose = YAML.parse(renderDocker(twisted, analysis, OPTIONS).find((c) => c.path === 'docker-compose.yml')!.content) as Compose;
    expect(compose.name).toBe('shop-ts-x-injected');
    expect(compose.services!.orders.image).toBe('shop-ts-x-injected-orders:dev');
    const badName: Plan = structuredClone(plan);
    badName.services[0]!.name = '../evil": x';
    expect(() => renderDocker(badName, analysis, OPTIONS)).toThrow(UserError);
  });

  it('is deterministic', () => {
    expect(renderDocker(plan, analysis, OPTIONS).map((c) => [c.path, c.content])).toEqual(changes.map((c) => [c.path, c.content]));
  });
});
