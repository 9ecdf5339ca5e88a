import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh, empty temp folder. Like every folder made here it is inside the test run's own temp folder, which the run
 * removes at its end (test/support/temp-root.ts).
 */
export function tempFolder(prefix = 'decompose-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes a small project from an object literal into a fresh temp folder and returns the folder. */
export function writeProject(files: Record<string, string>, prefix = 'decompose-test-'): string {
  const dir = tempFolder(prefix);
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(dir, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
  return dir;
}

/** Copies a fixture (without node_modules) into a temp folder so tests can change it freely. */
export function copyFixture(name: string): string {
  const source = fixturePath(name);
  const dir = tempFolder(`decompose-${path.basename(name)}-`);
  // What `npm start` or a developer's run leaves in the fixture is not part of it.
  const generated = new Set(['decompose-analysis.json', 'decompose.plan.yaml', 'PLAN.md', 'plan.html', 'decomposed']);
  fs.cpSync(source, dir, {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}node_modules`) && !(path.dirname(src) === source && generated.has(path.basename(src))),
  });
  return dir;
}

export const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

export function fixturePath(name: string): string {
  return path.join(repoRoot, 'fixtures', name);
}

export const EXPRESS_PACKAGE = JSON.stringify({ name: 'app', dependencies: { express: '^4.21.2' } });
