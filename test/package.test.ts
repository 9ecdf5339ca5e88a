import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, repoRoot } from '../src/test-support/temp-project.js';

/** What a user gets from the registry: the packed tarball, installed into an empty folder. */
describe('the packed package', () => {
  it('installs from its tarball and runs as `npx decompose`, templates and all', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-pack-'));
    const packed = await execa('npm', ['pack', '--pack-destination', work, '--json', '--ignore-scripts'], { cwd: repoRoot });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = info!.files.map((f) => f.path);
    expect(files).toContain('bin/decompose.js');
    expect(files).toContain('dist/cli/main.js');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('fixtures/') || f.endsWith('.test.js'))).toBe(false);

    const project = path.join(work, 'user-project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), '{"name":"user-project","private":true}');
    await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', path.join(work, info!.filename)], { cwd: project });

    const help = await execa('npx', ['--no-install', 'decompose', '--help'], { cwd: project, env: { NO_COLOR: '1' } });
    expect(help.stdout).toContain('Usage: decompose');

    const shop = copyFixture('shop-ts');
    const analyzed = await execa('npx', ['--no-install', 'decompose', 'analyze', shop, '--quiet'], { cwd: project, reject: false });
    expect(analyzed.exitCode, analyzed.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(shop, 'decompose-analysis.json'), 'utf8')).routes).toHaveLength(48);
  });
});
