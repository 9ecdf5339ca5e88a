#!/usr/bin/env node
// Runs before `npm test`: builds the CLI (the end-to-end tests run bin/decompose.js) and installs the
// fixture monoliths' own dependencies from their lockfiles when they are missing, so a fresh clone
// needs nothing but `npm install && npm test`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

execFileSync(npm, ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

for (const fixture of ['shop-ts', 'blog-cjs']) {
  const dir = path.join(root, 'fixtures', fixture);
  const lock = path.join(dir, 'package-lock.json');
  const installed = path.join(dir, 'node_modules', '.package-lock.json');
  const fresh = fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) continue;
  process.stderr.write(`installing fixture dependencies: fixtures/${fixture}\n`);
  execFileSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
}
