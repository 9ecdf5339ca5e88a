import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/test-support/run-cli.js';
import { copyFixture, fixturePath, repoRoot } from '../src/test-support/temp-project.js';

describe.each(['shop-ts', 'blog-cjs'])('decompose plan then check on fixtures/%s', (fixture) => {
  it('writes the plan, PLAN.md and plan.html at the project root; check is clean; a second plan is refused; --refresh keeps the bytes', async () => {
    const dir = copyFixture(fixture);
    const plan = await runCli(['plan', dir, '--yes', '--compare', '--expected', path.join(fixturePath(fixture), 'EXPECTED.json')]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('MoJoFM vs intended');
    for (const file of ['decompose.plan.yaml', 'PLAN.md', 'plan.html']) expect(fs.existsSync(path.join(dir, file))).toBe(true);
    const first = fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8');

    const check = await runCli(['check', dir]);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);

    const again = await runCli(['plan', dir, '--yes']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('DEC-053');

    const refreshed = await runCli(['plan', dir, '--refresh', '--compare', '--expected', path.join(fixturePath(fixture), 'EXPECTED.json')]);
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')).toBe(first);
  });
});

describe('check with a large plan', () => {
  it('finds the same drift, and reports broken YAML (read by yaml, not the fast reader) at its line and column', async () => {
    const dir = copyFixture('shop-ts');
    expect((await runCli(['plan', dir, '--yes'])).exitCode).toBe(0);
    const planFile = path.join(dir, 'decompose.plan.yaml');
    // 300 kB of comment, as a long hand-annotated plan might have.
    const padding = Array.from({ length: 3000 }, (_, i) => `# ${String(i).padStart(4, '0')} ${'x'.repeat(90)}`).join('\n');
    fs.writeFileSync(planFile, `${fs.readFileSync(planFile, 'utf8')}\n${padding}\n`);
    expect((await runCli(['check', dir])).exitCode).toBe(0);

    const service = path.join(dir, 'src/cart/cart.service.ts');
    fs.writeFileSync(service, `import { refundPayment } from '../payments/payment.service.js';\nexport const refundForCart = refundPayment;\n${fs.readFileSync(service, 'utf8')}`);
    const drift = await runCli(['check', dir, '--format', 'github']);
    expect(drift.exitCode).toBe(1);
    expect(drift.stdout).toMatch(/^::error file=src\/cart\/cart\.service\.ts,line=1,col=1,title=[^:]+::cart imports refundPayment/m);

    const text = fs.readFileSync(planFile, 'utf8');
    const broken = text.replace(/^project: (.*)$/m, 'project: $1\nproject: again');
    fs.writeFileSync(planFile, broken);
    const line = broken.split('\n').indexOf('project: again') + 1;
    const invalid = await runCli(['check', dir]);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr.split('\n')[0]).toContain(`decompose.plan.yaml:${line}:1`);
    expect(invalid.stderr).toContain('DEC-050');
  });
});

describe('the team-owned sections of the plan', () => {
  it('survive plan --refresh unchanged: check rules and the verify settings', async () => {
    const dir = copyFixture('shop-ts');
    expect((await runCli(['plan', dir, '--yes'])).exitCode).toBe(0);
    const planFile = path.join(dir, 'decompose.plan.yaml');
    const team = 'checks:\n  rules:\n    new-hazard: warn\nverify:\n  testCommand: npx vitest run --config vitest.api.config.mjs\n  ignoreFields:\n    - requestId\n';
    fs.appendFileSync(planFile, `\n${team}`);
    const refreshed = await runCli(['plan', dir, '--refresh']);
    expect(refreshed.exitCode, refreshed.stderr).toBe(0);
    const text = fs.readFileSync(planFile, 'utf8');
    expect(text).toContain('\nchecks:\n  rules:\n    new-hazard: warn\n');
    expect(text).toContain('\nverify:\n  testCommand: npx vitest run --config vitest.api.config.mjs\n  ignoreFields:\n    - requestId\n');

    fs.writeFileSync(planFile, text.replace('testCommand: npx vitest run --config vitest.api.config.mjs', 'testCommand: "  "'));
    const invalid = await runCli(['check', dir]);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toMatch(/decompose\.plan\.yaml:\d+:\d+.*verify\.testCommand.*must not be empty/);
  });
});

describe('decompose check output', () => {
  it('speaks every CI format on a drifted tree and exits 1; the github format is one workflow command per finding', async () => {
    const dir = copyFixture('shop-ts');
    expect((await runCli(['plan', dir, '--yes'])).exitCode).toBe(0);
    const service = path.join(dir, 'src/cart/cart.service.ts');
    fs.writeFileSync(service, `import { refundPayment } from '../payments/payment.service.js';\nexport const refundForCart = refundPayment;\n${fs.readFileSync(service, 'utf8')}`);

    const github = await runCli(['check', dir, '--format', 'github']);
    expect(github.exitCode).toBe(1);
    const commands = github.stdout.split('\n').filter((l) => l.startsWith('::'));
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatch(/^::error file=src\/cart\/cart\.service\.ts,line=1,col=1,title=[^:]+::cart imports refundPayment/);

    for (const format of ['json', 'sarif', 'junit', 'markdown', 'pretty']) {
      const out = await runCli(['check', dir, '--format', format]);
      expect(out.exitCode, `${format}: ${out.stderr}`).toBe(1);
      expect(out.stdout).toContain('cart.service.ts');
    }
    const sarif = JSON.parse((await runCli(['check', dir, '--format', 'sarif'])).stdout);
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].results[0].ruleId).toBe('forbidden-import');
  });

  it('answers a missing or invalid plan with exit 2 and the file named', async () => {
    const dir = copyFixture('blog-cjs');
    const missing = await runCli(['check', dir]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('decompose.plan.yaml');
    fs.writeFileSync(path.join(dir, 'decompose.plan.yaml'), 'version: 1\nservices: [\n');
    const broken = await runCli(['check', dir]);
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr).toMatch(/decompose\.plan\.yaml:\d+:\d+/);
  });

  it('exports the boundaries as dependency-cruiser rules that fail on a drifted tree', async () => {
    const dir = copyFixture('shop-ts');
    expect((await runCli(['plan', dir, '--yes'])).exitCode).toBe(0);
    expect((await runCli(['check', dir, '--export-rules', 'dependency-cruiser'])).exitCode).toBe(0);
    const config = path.join(dir, '.dependency-cruiser.cjs');
    const depcruise = path.join(repoRoot, 'node_modules', '.bin', 'depcruise');
    const clean = await execa(depcruise, ['--config', config, '--output-type', 'err', 'src'], { cwd: dir, reject: false });
    expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    const service = path.join(dir, 'src/cart/cart.service.ts');
    fs.writeFileSync(service, `import { refundPayment } from '../payments/payment.service.js';\nexport const refundForCart = refundPayment;\n${fs.readFileSync(service, 'utf8')}`);
    const drifted = await execa(depcruise, ['--config', config, '--output-type', 'err', 'src'], { cwd: dir, reject: false });
    expect(drifted.exitCode).not.toBe(0);
    expect(drifted.stdout + drifted.stderr).toContain('no-cart-to-payments');
  });
});
