import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../src/test-support/temp-project.js';

/**
 * Fuzzing the analyzer: the fixtures' own sources, mutated at random (seeded, so a failure replays), are fed to
 * `analyze` (from src/analyze/analyze.ts, in a worker thread so a hang can be stopped) many files at a time. Whatever
 * the bytes, a run ends within its time limit, throws nothing but a `UserError`, and every file it was given is
 * either analysed or listed in `diagnostics`, the same way when analysed again.
 *
 * FUZZ_SEED=… and FUZZ_BATCHES=… run other or more cases (e.g. overnight); the defaults keep this file well under
 * half a minute.
 */

const SEED = process.env.FUZZ_SEED ?? 'decompose-fuzz-1';
const BATCHES = Number(process.env.FUZZ_BATCHES ?? 4);
const VARIANTS_PER_BATCH = 6;
/** One batch (about 800 files) takes a few seconds; a run past this is a hang. */
const BATCH_TIMEOUT_MS = 30_000;

interface Source {
  /** Path inside the batch: fixture name, then the file's path in the fixture. */
  path: string;
  bytes: Buffer;
}

/** Every source module of the fixtures (tests and configs left out: the analyzer skips those by name). */
function fixtureSources(): Source[] {
  const out: Source[] = [];
  const walk = (root: string, dir: string, prefix: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (['node_modules', 'test', 'golden'].includes(entry.name)) continue;
        walk(root, full, prefix);
      } else if (/\.[cm]?[jt]s$/.test(entry.name) && !/\.(test|config|d)\.|\.config\./.test(entry.name)) {
        out.push({ path: `${prefix}/${path.relative(root, full).split(path.sep).join('/')}`, bytes: fs.readFileSync(full) });
      }
    }
  };
  for (const fixture of ['shop-ts', 'blog-cjs']) walk(fixturePath(fixture), fixturePath(fixture), fixture);
  for (const edge of fs.readdirSync(fixturePath('edge'), { withFileTypes: true })) {
    if (edge.isDirectory()) walk(fixturePath(`edge/${edge.name}`), fixturePath(`edge/${edge.name}`), `edge-${edge.name}`);
  }
  return out.filter((s) => !s.path.split('/').slice(1, -1).some((part) => part === 'fixtures'));
}

const INSERTIONS = [
  '{', '}', '(', ')', '[', ']', '<', '>', "'", '"', '`', '/*', '*/', '//', '\\', ';', ',', '=>', '${', '#!', '@', '?.', '??', '...',
  'import ', "import x from './", "export * from './", 'export default ', 'require(', "require('./", 'module.exports = ', 'exports.x = ',
  'app.use(', "router.get('/", 'express()', 'express.Router()', 'new Router(', 'async ', 'await ', 'class X extends ', 'function (', '.forEach((x) => ',
  '\u0000', '\uFEFF', '\u200B', '\u202E', '\u2028', '\u2029', '😀', '𝒳', 'é', 'ü', '漢字', '\r', '\t', '\n\n\n',
];

type Mutation = (text: Buffer, random: () => number) => Buffer;

const lineMutation = (change: (lines: string[], random: () => number) => void): Mutation => (bytes, random) => {
  const lines = bytes.toString('latin1').split('\n');
  change(lines, random);
  return Buffer.from(lines.join('\n'), 'latin1');
};
const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)]!;
const at = (length: number, random: () => number) => Math.floor(random() * (length + 1));
const insert = (bytes: Buffer, offset: number, piece: Buffer) => Buffer.concat([bytes.subarray(0, offset), piece, bytes.subarray(offset)]);

/** Byte and token mutations: what an editor crash, a bad merge, a generator or an attacker could leave behind. */
const MUTATIONS: Record<string, Mutation> = {
  deleteLine: lineMutation((lines, r) => void lines.splice(Math.floor(r() * lines.length), 1 + Math.floor(r() * 3))),
  duplicateLine: lineMutation((lines, r) => {
    const i = Math.floor(r() * lines.length);
    lines.splice(i, 0, ...lines.slice(i, i + 1 + Math.floor(r() * 4)));
  }),
  swapLines: lineMutation((lines, r) => {
    const i = Math.floor(r() * lines.length);
    const j = Math.floor(r() * lines.length);
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }),
  cutShort: (bytes, r) => bytes.subarray(0, Math.floor(r() * bytes.length)),
  insertToken: (bytes, r) => insert(bytes, at(bytes.length, r), Buffer.from(pick(INSERTIONS, r))),
  insertBrackets: (bytes, r) => insert(bytes, at(bytes.length, r), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 20) }, () => pick(['(', ')', '{', '}', '[', ']', '<', '>'], r)).join(''))),
  insertBytes: (bytes, r) => insert(bytes, at(bytes.length, r), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256)))),
  insertNul: (bytes, r) => insert(bytes, at(bytes.length, r), Buffer.from([0])),
  copySpan: (bytes, r) => {
    const from = Math.floor(r() * bytes.length);
    return insert(bytes, at(bytes.length, r), bytes.subarray(from, from + 1 + Math.floor(r() * 200)));
  },
  deleteSpan: (bytes, r) => {
    const from = Math.floor(r() * bytes.length);
    return Buffer.concat([bytes.subarray(0, from), bytes.subarray(from + 1 + Math.floor(r() * 40))]);
  },
  replaceString: (bytes, r) => {
    // A specifier or route path turned into something odd: a self-import, a climb out of the project, a glob.
    const text = bytes.toString('utf8');
    const literals = [...text.matchAll(/'[^'\n]*'|"[^"\n]*"/g)];
    if (literals.length === 0) return bytes;
    const literal = pick(literals, r);
    const replacement = pick(["'./'", "'../'.repeat(40)", `'${'../'.repeat(40)}etc/passwd'`, "'.'", "''", "'/:id(\\\\d+)*'", "'./index'", "'#internal'", "'node:fs'", "'{{x}}'"], r);
    return Buffer.from(text.slice(0, literal.index) + replacement + text.slice(literal.index! + literal[0].length), 'utf8');
  },
  deepNesting: (bytes, r) => {
    const depth = Math.floor(r() * 3000);
    const open = pick(['(', '[', '{a:', 'f(', '!', '-', 'a ? b : '], r);
    const close = { '(': ')', '[': ']', '{a:': '}', 'f(': ')' }[open] ?? '';
    return insert(bytes, at(bytes.length, r), Buffer.from(`\nx = ${open.repeat(depth)}1${close.repeat(r() < 0.8 ? depth : Math.floor(depth / 2))};\n`));
  },
  longLine: (bytes, r) => insert(bytes, at(bytes.length, r), Buffer.from(`\nconst s = '${'x'.repeat(Math.floor(r() * 200_000))}';\n`)),
  // The rest keep the file parseable, so the mutation reaches the evaluator and the route table.
  swapIdentifiers: (bytes, r) => {
    // One name used in place of another: self-references, cycles, a router used as a handler …
    const text = bytes.toString('utf8');
    const names = [...new Set(text.match(/\b[A-Za-z_$][\w$]{0,40}\b/g) ?? [])].filter((n) => !KEYWORDS.has(n));
    if (names.length < 2) return bytes;
    const from = pick(names, r);
    const to = pick(names, r);
    let seen = 0;
    const nth = Math.floor(r() * 3);
    return Buffer.from(text.replace(new RegExp(`\\b${from.replace(/\$/g, '\\$')}\\b`, 'g'), (m) => (seen++ === nth ? to : m)), 'utf8');
  },
  importItself: (bytes, r) => {
    const text = bytes.toString('utf8');
    const specifiers = [...text.matchAll(/(from\s+|require\(\s*)(['"])(\.[^'"]*)\2/g)];
    if (specifiers.length === 0) return bytes;
    const s = pick(specifiers, r);
    return Buffer.from(text.slice(0, s.index) + `${s[1]}'./${pick(['index', 'app', 'routes', '..', '../..', '.'], r)}'` + text.slice(s.index! + s[0].length), 'utf8');
  },
  routerCall: (bytes, r) => {
    const text = bytes.toString('utf8');
    const calls = [...text.matchAll(/\.(get|post|put|patch|delete|use|all|route)\(/g)];
    if (calls.length === 0) return bytes;
    const c = pick(calls, r);
    return Buffer.from(`${text.slice(0, c.index)}.${pick(['use', 'get', 'route', 'all', 'listen', 'param'], r)}(${text.slice(c.index! + c[0].length)}`, 'utf8');
  },
  wrapInLoop: lineMutation((lines, r) => {
    const i = Math.floor(r() * lines.length);
    const n = 1 + Math.floor(r() * 4);
    lines.splice(i, n, `[${"'/a', '/b', '/c'"}].forEach((p${i}) => {`, ...lines.slice(i, i + n), '});');
  }),
  mountTwice: (bytes, r) => {
    const text = bytes.toString('utf8');
    const mounts = [...text.matchAll(/^.*\.use\(.*$/gm)];
    if (mounts.length === 0) return bytes;
    const m = pick(mounts, r);
    return Buffer.from(text.slice(0, m.index) + `${m[0]}\n`.repeat(2 + Math.floor(r() * 3)) + text.slice(m.index! + m[0].length + 1), 'utf8');
  },
};

const KEYWORDS = new Set(['import', 'export', 'from', 'const', 'let', 'var', 'function', 'return', 'if', 'else', 'for', 'while', 'new', 'class', 'extends', 'async', 'await', 'default', 'require', 'module', 'exports', 'true', 'false', 'null', 'undefined', 'this', 'typeof', 'type', 'interface', 'of', 'in', 'as', 'try', 'catch', 'throw', 'switch', 'case', 'break', 'continue', 'do', 'void', 'delete', 'instanceof', 'yield', 'static', 'public', 'private', 'protected', 'readonly', 'enum', 'declare', 'namespace', 'abstract', 'implements', 'get', 'set', 'super', 'with', 'finally', 'debugger']);

/** How often each mutation is drawn: breaking ones rarely, so most files still reach the later stages. */
const WEIGHTS: Record<string, number> = {
  deleteLine: 2, duplicateLine: 2, swapLines: 1, cutShort: 1, insertToken: 2, insertBrackets: 1, insertBytes: 0.5, insertNul: 0.3,
  copySpan: 1, deleteSpan: 1, replaceString: 4, deepNesting: 1.5, longLine: 0.3,
  swapIdentifiers: 6, importItself: 4, routerCall: 4, wrapInLoop: 3, mountTwice: 3,
};
const WEIGHTED = Object.entries(WEIGHTS).flatMap(([name, weight]) => Array<string>(Math.round(weight * 10)).fill(name));

function mutate(source: Buffer, random: () => number): { bytes: Buffer; applied: string[] } {
  let bytes = source;
  const applied: string[] = [];
  const count = random() < 0.6 ? 1 : 2 + Math.floor(random() * 3);
  for (let i = 0; i < count; i++) {
    const name = pick(WEIGHTED, random);
    bytes = MUTATIONS[name]!(bytes, random);
    applied.push(name);
  }
  return { bytes, applied };
}

interface WorkerAnswer {
  id: number;
  ms: number;
  modules?: string[];
  diagnostics?: Array<{ file: string; code: string; line: number; column: number }>;
  routes?: number;
  error?: { name: string; code: string | null; message: string; stack: string };
}

class AnalyzerWorker {
  private worker: Worker;
  private ready: Promise<void>;
  private nextId = 0;

  constructor() {
    // Without the test runner's own loader flags (the worker loads the TypeScript sources through tsx), and with the
    // stack of the CLI's main thread (V8's default, under 1 MB) rather than a worker's larger default, so a stack
    // overflow the CLI would hit is hit here too.
    this.worker = new Worker(new URL('./support/analyze-worker.mjs', import.meta.url), { execArgv: [], resourceLimits: { stackSizeMb: 0.95 } });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', reject);
    });
  }

  /** Analyses `dir`, or rejects when the run takes longer than `timeoutMs` (and stops the worker). */
  async analyze(dir: string, timeoutMs: number): Promise<WorkerAnswer> {
    await this.ready;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.worker.terminate();
        reject(new Error(`analyze(${dir}) did not finish within ${timeoutMs} ms (a hang)`));
      }, timeoutMs);
      const onMessage = (answer: WorkerAnswer) => {
        if (answer.id !== id) return;
        clearTimeout(timer);
        this.worker.off('message', onMessage);
        resolve(answer);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      this.worker.postMessage({ id, dir });
    });
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

describe(`analyzer fuzz (seed ${SEED})`, () => {
  const sources = fixtureSources();
  let worker: AnalyzerWorker;
  let total = 0;
  const outcomes = { analysed: 0, diagnosed: 0, userErrors: 0 };
  const diagnosticCodes = new Map<string, number>();

  beforeAll(() => {
    worker = new AnalyzerWorker();
  });
  afterAll(async () => {
    await worker.stop();
    // eslint-disable-next-line no-console
    console.log(
      `fuzz ${SEED}: ${total} mutated files in ${BATCHES} batches; ${outcomes.analysed} analysed, ${outcomes.diagnosed} in diagnostics (${[...diagnosticCodes].map(([c, n]) => `${c} ${n}`).join(', ')}), ${outcomes.userErrors} batches refused with a UserError`,
    );
  });

  it('has sources to mutate', () => {
    expect(sources.length).toBeGreaterThan(100);
  });

  for (let batch = 0; batch < BATCHES; batch++) {
    it(`batch ${batch}: ends in time, throws only a UserError, and every file is analysed or in diagnostics, the same way twice`, async () => {
      const random = seedrandom(`${SEED}/${batch}`);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-fuzz-'));
      const written = new Map<string, string[]>();
      const put = (file: string, bytes: Buffer | string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), bytes);
      };
      put('package.json', JSON.stringify({ name: `fuzz-${batch}`, dependencies: { express: '^4.21.2' } }));
      // An untouched app, so every batch is an Express project whatever the mutations did to the others.
      put('anchor/app.js', "const express = require('express');\nconst app = express();\napp.get('/health', (req, res) => res.end());\nmodule.exports = app;\n");
      for (let variant = 0; variant < VARIANTS_PER_BATCH; variant++) {
        for (const source of sources) {
          const file = `v${variant}/${source.path}`;
          const { bytes, applied } = mutate(source.bytes, random);
          put(file, bytes);
          written.set(file, applied);
        }
      }
      total += written.size;

      const answer = await worker.analyze(dir, BATCH_TIMEOUT_MS);
      if (answer.error) {
        const { name, code, message, stack } = answer.error;
        expect(name === 'UserError' && /^DEC-0\d\d$/.test(code ?? ''), `seed ${SEED}/${batch} (${dir}): ${stack || message}`).toBe(true);
        outcomes.userErrors += 1;
        return;
      }
      const analysed = new Set(answer.modules);
      const diagnosed = new Set(answer.diagnostics!.map((d) => d.file));
      const lost = [...written.keys()].filter((file) => !analysed.has(file) && !diagnosed.has(file));
      expect(lost.map((file) => `${file} (${written.get(file)!.join(', ')})`), `seed ${SEED}/${batch}, kept in ${dir}`).toEqual([]);
      expect(analysed.has('anchor/app.js')).toBe(true);
      // The same verdicts again, now that the analyzer's code is warm: whether a module nests too deeply to read must
      // not depend on how much stack a parse happened to need.
      const again = await worker.analyze(dir, BATCH_TIMEOUT_MS);
      expect({ modules: again.modules, diagnostics: again.diagnostics }, `seed ${SEED}/${batch}, second run, kept in ${dir}`).toEqual({ modules: answer.modules, diagnostics: answer.diagnostics });
      for (const file of written.keys()) {
        if (analysed.has(file)) outcomes.analysed += 1;
        else outcomes.diagnosed += 1;
      }
      for (const d of answer.diagnostics!) diagnosticCodes.set(d.code, (diagnosticCodes.get(d.code) ?? 0) + 1);
      fs.rmSync(dir, { recursive: true, force: true });
    }, BATCH_TIMEOUT_MS + 10_000);
  }
});
