import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForHttp } from '../src/test-support/processes.js';
import { runCli } from '../src/test-support/run-cli.js';
import { copyFixture, fixturePath } from '../src/test-support/temp-project.js';

/**
 * decompose scaffold end to end, for real: the generated workspace is installed with npm, compiled with tsc,
 * and every service is started as a process behind the Node gateway; one route per service is requested
 * through the gateway and the service's own metrics show it answered.
 */

interface PlanFile {
  services: Array<{ name: string; routes: string[] }>;
}

const running: Array<{ stop: () => Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
});

/** The GET route with the fewest parameters (a concrete path for it), else the service's first route. */
function probeFor(routes: string[]): { method: string; path: string; pattern: string } {
  const parsed = routes.map((r) => ({ method: r.slice(0, r.indexOf(' ')), pattern: r.slice(r.indexOf(' ') + 1) }));
  const gets = parsed.filter((r) => r.method === 'GET');
  const pick = (gets.length > 0 ? gets : parsed).sort((a, b) => (a.pattern.split(':').length - b.pattern.split(':').length) || a.pattern.localeCompare(b.pattern))[0]!;
  return { method: pick.method === 'ALL' ? 'GET' : pick.method, pattern: pick.pattern, path: pick.pattern.replace(/:(\w+)(\([^)]*\))?\??/g, 'probe-1').replace(/\*/g, 'x') };
}

describe.each(['shop-ts', 'blog-cjs'])('decompose scaffold on fixtures/%s', (fixture) => {
  let dir: string;
  let out: string;
  let plan: PlanFile;

  beforeAll(async () => {
    dir = copyFixture(fixture);
    const analyzed = await runCli(['analyze', dir]);
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    const planned = await runCli(['plan', dir, '--yes']);
    expect(planned.exitCode, planned.stderr).toBe(0);
    plan = YAML.parse(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')) as PlanFile;
    const scaffolded = await runCli(['scaffold', dir]);
    expect(scaffolded.exitCode, scaffolded.stderr).toBe(0);
    out = path.join(dir, 'decomposed');
  }, 120_000);

  it('writes a workspace: one package per service, the shared package, the runtime, the gateway and the deployment files', () => {
    const workspace = JSON.parse(fs.readFileSync(path.join(out, 'package.json'), 'utf8')) as { workspaces: string[] };
    expect(workspace.workspaces).toEqual(['packages/runtime', 'packages/shared', ...plan.services.map((s) => `services/${s.name}`).sort()]);
    for (const service of plan.services) {
      for (const file of ['package.json', 'tsconfig.json', 'README.md', 'Dockerfile']) expect(fs.existsSync(path.join(out, 'services', service.name, file)), `${service.name}/${file}`).toBe(true);
    }
    for (const file of ['MIGRATION.md', 'README.md', 'gateway/nginx.conf', 'gateway/node/gateway.mjs', 'docker-compose.yml', 'deploy/k8s/base/kustomization.yaml']) expect(fs.existsSync(path.join(out, file)), file).toBe(true);
    expect(fs.existsSync(path.join(dir, '.github/workflows/ci.yml'))).toBe(true);
    // Hard-coded secret fallbacks are reported by position, never by value.
    const migration = fs.readFileSync(path.join(out, 'MIGRATION.md'), 'utf8');
    if (fixture === 'shop-ts') {
      expect(migration).toContain('`src/config.ts:34`: `JWT_SECRET` has a value written in the code as its fallback');
      expect(migration).not.toContain('dev-only-jwt-secret-change-me');
    }
    // Nothing of the monolith changed.
    expect(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).toBe(fs.readFileSync(path.join(fixturePath(fixture), 'package.json'), 'utf8'));
  });

  it('installs with npm and compiles every package and service with tsc (no errors)', async () => {
    const install = await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: out, reject: false, all: true });
    expect(install.exitCode, install.all).toBe(0);
    const build = await execa('npm', ['run', 'build'], { cwd: out, reject: false, all: true });
    expect(build.exitCode, build.all).toBe(0);
    for (const service of plan.services) expect(fs.existsSync(path.join(out, 'services', service.name, 'dist', 'main.js')), service.name).toBe(true);
  }, 300_000);

  it('starts every service and the gateway; one route of each service answers through the gateway, from that service', async () => {
    const ports = new Map<string, number>();
    for (const service of plan.services) ports.set(service.name, await freePort());
    const urls = Object.fromEntries([...ports].map(([name, port]) => [`${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_URL`, `http://127.0.0.1:${port}`]));
    const env = { ...process.env, ...urls, HOST: '127.0.0.1', INTERNAL_TOKEN: 'e2e-token', NODE_ENV: 'test' } as Record<string, string>;
    for (const service of plan.services) {
      const started = startProcess(process.execPath, ['dist/main.js'], { cwd: path.join(out, 'services', service.name), env: { ...env, PORT: String(ports.get(service.name)) } });
      running.push(started);
    }
    const gatewayPort = await freePort();
    running.push(startProcess(process.execPath, ['gateway/node/gateway.mjs'], { cwd: out, env: { ...env, PORT: String(gatewayPort) } }));
    for (const [name, port] of ports) {
      await waitForHttp(`http://127.0.0.1:${port}/readyz`, 60_000);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status, name).toBe(200);
      expect(((await ready.json()) as { service: string }).service, `the service on ${name}'s port`).toBe(name);
    }
    await waitForHttp(`http://127.0.0.1:${gatewayPort}/gateway/healthz`);

    for (const service of plan.services) {
      const probe = probeFor(service.routes);
      const answer = await fetch(`http://127.0.0.1:${gatewayPort}${probe.path}`, { method: probe.method });
      expect(answer.status, `${service.name}: ${probe.method} ${probe.path}`).toBeLessThan(500);
      const metrics = await (await fetch(`http://127.0.0.1:${ports.get(service.name)}/metrics`)).text();
      const served = metrics.split('\n').find((l) => l.startsWith('http_requests_total{') && l.includes(`route="${probe.pattern}"`) && l.includes(`method="${probe.method}"`));
      expect(served, `${service.name} answered ${probe.method} ${probe.pattern}`).toBeDefined();
    }

    // No route becomes public by moving: every route the monolith guards with its auth middleware answers a request
    // without credentials exactly as the monolith does (401, or the 404 of a loader that runs first), through the
    // gateway, in its new service.
    const analysis = JSON.parse(fs.readFileSync(path.join(dir, 'decompose-analysis.json'), 'utf8')) as { routes: Array<{ method: string; path: string; middleware: string[] }> };
    const guarded = analysis.routes.filter((r) => r.method !== 'ALL' && r.middleware.includes('authenticate'));
    expect(guarded.length).toBeGreaterThan(5);
    const monolithPort = await freePort();
    const monolith = fixture === 'shop-ts' ? ['node_modules/.bin/tsx', 'src/server.ts'] : [process.execPath, 'server.js'];
    running.push(startProcess(monolith[0]!, monolith.slice(1), { cwd: fixturePath(fixture), env: { ...env, PORT: String(monolithPort), UPLOAD_DIR: fs.mkdtempSync(path.join(out, '..', 'uploads-')) } }));
    await waitForHttp(`http://127.0.0.1:${monolithPort}/`, 60_000);
    let unauthorized = 0;
    for (const route of guarded) {
      const target = route.path.replace(/:(\w+)(\([^)]*\))?\??/g, 'probe-1').replace(/\*/g, 'x');
      const init = { method: route.method, headers: { 'content-type': 'application/json' }, body: route.method === 'GET' || route.method === 'HEAD' ? undefined : '{}' };
      const [split, whole] = await Promise.all([fetch(`http://127.0.0.1:${gatewayPort}${target}`, init), fetch(`http://127.0.0.1:${monolithPort}${target}`, init)]);
      expect(split.status, `${route.method} ${route.path} without credentials`).toBe(whole.status);
      expect([401, 403, 404], `${route.method} ${route.path}`).toContain(split.status);
      if (split.status === 401) unauthorized += 1;
    }
    expect(unauthorized, 'most guarded routes answer 401').toBeGreaterThan(guarded.length / 2);
  }, 180_000);
});

/** The scaffold in `<dir>/decomposed` against the fixture's golden copies: the file list and these files. */
async function expectGoldenScaffold(dir: string, fixture: string, files: string[]): Promise<void> {
  const out = path.join(dir, 'decomposed');
  const list = (await execa('find', ['.', '-type', 'f'], { cwd: out })).stdout.split('\n').sort().join('\n');
  const golden = path.join(fixturePath(fixture), 'golden', 'scaffold');
  await expect(`${list}\n`).toMatchFileSnapshot(path.join(golden, 'files.txt'));
  for (const file of files) {
    await expect(fs.readFileSync(path.join(out, file), 'utf8')).toMatchFileSnapshot(path.join(golden, `${file.replace(/\//g, '__')}.golden`));
  }
}

describe('decompose scaffold: what it writes, and what it refuses', () => {
  let dir: string;
  beforeAll(async () => {
    dir = copyFixture('shop-ts');
    fs.copyFileSync(path.join(fixturePath('shop-ts'), 'golden', 'decompose.plan.yaml'), path.join(dir, 'decompose.plan.yaml'));
  });

  it('keeps golden copies of the file list and of key generated files (they change only on purpose)', async () => {
    const result = await runCli(['scaffold', dir, '--only', 'services,gateway']);
    expect(result.exitCode, result.stderr).toBe(0);
    await expectGoldenScaffold(dir, 'shop-ts', ['MIGRATION.md', 'services/cart/main.ts', 'services/cart/src/routes.ts', 'services/cart/remote/src/catalog/catalog.api.ts', 'services/orders/remote/src/inventory/stock.repository.ts', 'services/inventory/internal.ts', 'services/auth/package.json']);
  });

  it('blog-cjs (CommonJS): golden copies of the file list and key files', async () => {
    const blog = copyFixture('blog-cjs');
    fs.copyFileSync(path.join(fixturePath('blog-cjs'), 'golden', 'decompose.plan.yaml'), path.join(blog, 'decompose.plan.yaml'));
    const result = await runCli(['scaffold', blog, '--only', 'services,gateway']);
    expect(result.exitCode, result.stderr).toBe(0);
    await expectGoldenScaffold(blog, 'blog-cjs', ['MIGRATION.md', 'services/posts/main.js', 'services/posts/routes/index.js', 'services/posts/remote/models/index.js', 'services/auth/internal.js', 'services/posts/middleware/authenticate.js']);
  });

  it('changes nothing on a second run, keeps an edited file (new version beside it), and overwrites only with --force', async () => {
    const out = path.join(dir, 'decomposed');
    const again = await runCli(['scaffold', dir, '--only', 'services,gateway', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    const files = (JSON.parse(again.stdout) as { files: Array<{ action: string }> }).files;
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => f.action !== 'unchanged')).toEqual([]);

    const edited = path.join(out, 'services/cart/src/cart/cart.service.ts');
    const mine = `${fs.readFileSync(edited, 'utf8')}\n// my fix\n`;
    fs.writeFileSync(edited, mine);
    const kept = await runCli(['scaffold', dir, '--only', 'services,gateway']);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(kept.stderr).toContain('was edited since decompose wrote it');
    expect(fs.readFileSync(edited, 'utf8')).toBe(mine);
    expect(fs.existsSync(`${edited}.decompose-new`)).toBe(true);

    const dry = await runCli(['scaffold', dir, '--only', 'services,gateway', '--dry-run', '--force']);
    expect(dry.stdout).toContain('UPDATE');
    expect(fs.readFileSync(edited, 'utf8')).toBe(mine);
    const forced = await runCli(['scaffold', dir, '--only', 'services,gateway', '--force']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(fs.readFileSync(edited, 'utf8')).not.toContain('// my fix');
  });

  it('refuses service names that would escape the output folder, and an output folder that is a link out of it', async () => {
    const hostile = copyFixture('shop-ts');
    const planText = fs.readFileSync(path.join(fixturePath('shop-ts'), 'golden', 'decompose.plan.yaml'), 'utf8');
    for (const name of ['../../etc', 'CON', 'a/b', 'gateway']) {
      fs.writeFileSync(path.join(hostile, 'decompose.plan.yaml'), planText.replace('  - name: cart\n', `  - name: ${JSON.stringify(name)}\n`));
      const result = await runCli(['scaffold', hostile, '--only', 'services']);
      expect(result.exitCode, `${name}: ${result.stdout}${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/error/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(fs.existsSync(path.join(hostile, 'decomposed'))).toBe(false);
    }
    fs.copyFileSync(path.join(fixturePath('shop-ts'), 'golden', 'decompose.plan.yaml'), path.join(hostile, 'decompose.plan.yaml'));
    const outside = fs.mkdtempSync(path.join(path.dirname(hostile), 'outside-'));
    fs.mkdirSync(path.join(hostile, 'decomposed'));
    fs.symlinkSync(outside, path.join(hostile, 'decomposed', 'services'));
    const linked = await runCli(['scaffold', hostile, '--only', 'services']);
    expect(linked.exitCode).toBe(2);
    expect(fs.readdirSync(outside)).toEqual([]);
  });
});
