import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/test-support/run-cli.js';
import { repoRoot } from '../src/test-support/temp-project.js';

// The generator behind `npm run bench` (scripts/bench/generate.mjs, plain JavaScript).
interface GeneratedTree {
  dir: string;
  modules: number;
  domains: number;
  domainNames: string[];
  commonjsDomains: string[];
  routes: number;
}
interface Generator {
  generateMonolith(options: { modules: number; seed: number; dir: string }): GeneratedTree;
}

const generatorUrl = pathToFileURL(path.join(repoRoot, 'scripts', 'bench', 'generate.mjs')).href;
const loadGenerator = async (): Promise<Generator> => (await import(generatorUrl)) as Generator;
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-bench-generator-'));
afterAll(() => fs.rmSync(temp, { recursive: true, force: true }));

/** Every file below `dir` with its content, keyed by relative POSIX path. */
function readTree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const visit = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) visit(full);
      else files[path.relative(dir, full).split(path.sep).join('/')] = fs.readFileSync(full, 'utf8');
    }
  };
  visit(dir);
  return files;
}

describe('the benchmark generator (scripts/bench/generate.mjs)', () => {
  it('writes a byte-identical tree for the same seed, and a different one for another seed', async () => {
    const { generateMonolith } = await loadGenerator();
    const first = generateMonolith({ modules: 50, seed: 7, dir: path.join(temp, 'first') });
    const second = generateMonolith({ modules: 50, seed: 7, dir: path.join(temp, 'second') });
    const other = generateMonolith({ modules: 50, seed: 8, dir: path.join(temp, 'other') });

    const a = readTree(first.dir);
    expect(Object.keys(a).filter((f) => f.startsWith('src/'))).toHaveLength(50);
    expect(readTree(second.dir)).toEqual(a);
    expect(readTree(other.dir)).not.toEqual(a);
  });

  it('gives decompose analyze a tree it reads completely: routes under every generated domain, nothing unresolved', async () => {
    const { generateMonolith } = await loadGenerator();
    const tree = generateMonolith({ modules: 50, seed: 7, dir: path.join(temp, 'analysed') });
    expect(tree.domains).toBeGreaterThanOrEqual(3);
    expect(tree.commonjsDomains.length).toBeGreaterThanOrEqual(1);

    const out = path.join(temp, 'analysis.json');
    const run = await runCli(['analyze', tree.dir, '--out', out]);
    expect(run.exitCode, run.stderr).toBe(0);
    const analysis = JSON.parse(fs.readFileSync(out, 'utf8')) as {
      modules: Array<{ path: string; format: string }>;
      routes: Array<{ path: string }>;
      unresolvedImports: unknown[];
      unresolvedRoutes: unknown[];
      diagnostics: unknown[];
    };
    expect(analysis.modules).toHaveLength(50);
    expect(analysis.routes.length).toBeGreaterThan(0);
    expect(analysis.routes).toHaveLength(tree.routes);
    expect(analysis.unresolvedImports).toEqual([]);
    expect(analysis.unresolvedRoutes).toEqual([]);
    expect(analysis.diagnostics).toEqual([]);
    // Both module formats are present: ESM-syntax TypeScript and CommonJS.
    expect(new Set(analysis.modules.map((m) => m.format))).toEqual(new Set(['esm', 'cjs']));

    // Every generated domain shows up, both as a folder of modules and as a mounted route prefix.
    const domainFolders = new Set(analysis.modules.map((m) => /^src\/domains\/([^/]+)\//.exec(m.path)?.[1]).filter(Boolean));
    const apiPrefixes = new Set(analysis.routes.map((r) => /^\/api\/([^/]+)/.exec(r.path)?.[1]).filter(Boolean));
    expect(domainFolders.size).toBe(tree.domains);
    expect([...apiPrefixes].sort()).toEqual([...tree.domainNames].sort());
  });
});
