import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { defaultAnswers } from '../app/config-file.js';
import type { DetectedProject } from '../app/guided-detect.js';
import type { Plan } from '../model/plan.js';
import { type PreviewFile, equivalentCommands, formatCommandLine, formatDetection, formatFindings, formatQuestions, formatTree, shellQuote } from './guided-format.js';
import { createProgress } from './guided-progress.js';

const plain = new Chalk({ level: 0 });
const colored = new Chalk({ level: 1 });
const visible = (text: string) => text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
const fits = (text: string) => {
  for (const line of visible(text).split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
};

describe('the equivalent command line', () => {
  const defaults = defaultAnswers({ git: false });

  it('is `plan --yes && scaffold` for the defaults, --refresh for an existing plan, --force to replace it', () => {
    expect(equivalentCommands({ dirArg: null, mode: 'propose', answers: defaults, verify: null })).toEqual(['decompose plan --yes', 'decompose scaffold']);
    expect(equivalentCommands({ dirArg: null, mode: 'refresh', answers: defaults, verify: null })[0]).toBe('decompose plan --refresh');
    expect(equivalentCommands({ dirArg: null, mode: 'replace', answers: defaults, verify: null })[0]).toBe('decompose plan --yes --force');
  });

  it('carries every answer that is not a default, quoted for the shell', () => {
    const answers = {
      ...defaults,
      plan: { ...defaults.plan, git: true, maxServices: 6, seed: 3 },
      targets: ['services' as const, 'gateway' as const],
      ci: 'gitlab' as const,
      out: "my split",
      registry: 'ghcr.io/acme',
      gateway: 'node' as const,
    };
    const commands = equivalentCommands({ dirArg: '../shop', mode: 'propose', answers, verify: { gatewayOption: true } });
    expect(commands).toEqual([
      'decompose plan ../shop --yes --git --max-services 6 --seed 3',
      "decompose scaffold ../shop --only services,gateway,ci --ci gitlab --out 'my split' --registry ghcr.io/acme",
      'decompose verify ../shop --gateway node',
    ]);
    // --refresh keeps the plan's own settings: the granularity flags would be ignored, so they are left out.
    expect(equivalentCommands({ dirArg: null, mode: 'refresh', answers, verify: null })[0]).toBe('decompose plan --refresh');
    expect(equivalentCommands({ dirArg: null, mode: 'propose', answers: { ...defaults, ci: 'none' }, verify: null })[1]).toBe('decompose scaffold --only services,gateway,docker,k8s,observability');
    expect(equivalentCommands({ dirArg: null, mode: 'propose', answers: defaults, verify: { gatewayOption: false } })[2]).toBe('decompose verify');
  });

  it('quotes what a shell would split or expand', () => {
    expect(shellQuote('decomposed')).toBe('decomposed');
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('$HOME')).toBe("'$HOME'");
  });

  it('stays on one line when it fits, else breaks at && with continuations inside 80 columns', () => {
    expect(formatCommandLine(['decompose plan --yes', 'decompose scaffold'])).toBe('  decompose plan --yes && decompose scaffold');
    const long = formatCommandLine([
      'decompose plan /a/very/long/path/to/the/monolith/that/does/not/fit --yes --git --max-services 6',
      'decompose scaffold /a/very/long/path/to/the/monolith/that/does/not/fit --only services,gateway,ci --ci gitlab',
    ]);
    fits(long);
    const lines = long.split('\n');
    for (const line of lines.slice(0, -1)) expect(line.endsWith(' \\')).toBe(true);
    expect(lines.some((l) => l.trimStart().startsWith('&& decompose scaffold'))).toBe(true);
    expect(lines.join(' ').replace(/ \\/g, '').replace(/\s+/g, ' ').trim()).toBe(
      'decompose plan /a/very/long/path/to/the/monolith/that/does/not/fit --yes --git --max-services 6 && decompose scaffold /a/very/long/path/to/the/monolith/that/does/not/fit --only services,gateway,ci --ci gitlab',
    );
  });
});

describe('the text of the guided run fits 80 columns', () => {
  const found: DetectedProject = {
    root: `/tmp/${'deeply-nested-folder/'.repeat(6)}shop`,
    packageJson: { name: 'shop-ts', version: '3.14.0' },
    express: '^4.21.2',
    tsconfig: 'tsconfig.json',
    entryCandidates: ['src/app.ts', 'src/admin/app.ts'],
    sourceFiles: 69,
    gitRoot: null,
    existingPlan: 'decompose.plan.yaml',
    config: { config: {}, source: 'package.json#decompose' },
  };

  it('the detection summary', () => {
    const text = formatDetection(found, colored);
    fits(text);
    const shown = visible(text);
    expect(shown).toContain('src/app.ts (+1 more calling express())');
    expect(shown).toContain('not a work tree: change coupling off');
    expect(shown).toContain('defaults from package.json#decompose');
    expect(shown).toContain('decompose.plan.yaml exists');
    expect(visible(formatDetection({ ...found, express: null, entryCandidates: [], packageJson: null }, plain))).toMatch(/not a dependency[\s\S]*no file calls express\(\)/);
  });

  it('the top conflicts and hazards, the rest counted', () => {
    const hazard = (n: number) => ({ kind: 'in-process-cache', file: `src/catalog/a-rather-long-module-name-for-wrapping-${n}.ts`, line: n, message: '' });
    const plan = {
      conflicts: Array.from({ length: 4 }, (_, i) => ({
        entity: `table${i}`,
        owner: 'inventory',
        writers: [{ service: 'orders', module: 'a', line: 1 }, { service: 'inventory', module: 'b', line: 2 }],
        options: ['move-writer', 'expose-api', 'publish-events'],
        recommended: 'expose-api',
        reason: '',
      })),
      services: [{ name: 'catalog', hazards: [hazard(1), hazard(2), hazard(3), hazard(4), hazard(5)] }],
    } as unknown as Plan;
    const text = formatFindings(plan, colored);
    fits(text);
    const shown = visible(text);
    expect(shown).toContain('Data conflicts (4)');
    expect(shown).toContain('table0: written by inventory, orders; owner inventory; recommended:');
    expect(shown).not.toContain('table3');
    expect(shown).toContain('Scale-out hazards (5)');
    expect(shown).toContain('… 3 more in PLAN.md');
    expect(visible(formatFindings({ conflicts: [], services: [] } as unknown as Plan, plain))).toContain('No data conflicts');
  });

  it('the dry-run tree: open top folder, folders of folders opened, the rest counted', () => {
    const files: PreviewFile[] = [
      '.github/workflows/ci.yml',
      'decomposed/package.json',
      'decomposed/gateway/nginx.conf',
      'decomposed/gateway/node/server.js',
      ...Array.from({ length: 15 }, (_, i) => `decomposed/services/service-${String(i).padStart(2, '0')}/package.json`),
      'decomposed/services/service-00/src/index.ts',
    ].map((p, i) => ({ path: p, action: i === 1 ? 'update' : i === 2 ? 'conflict' : 'create' }));
    const text = visible(formatTree(files, colored));
    fits(text);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^ {2}\.github\/workflows\/ci\.yml\s+new$/);
    expect(text).toMatch(/^ {2}decomposed\/\s+17 new, 1 changed, 1 edited$/m);
    expect(text).toMatch(/^ {4}gateway\/\s+1 new, 1 edited$/m);
    expect(text).not.toContain('nginx.conf');
    expect(text).toMatch(/^ {6}service-00\/\s+2 new$/m);
    expect(text).toContain('… 3 more');
    expect(text).toMatch(/^ {4}package\.json\s+changed$/m);
  });

  it('the questions asked without a terminal', () => {
    const questions = formatQuestions({ answers: defaultAnswers({ git: false }), existingPlan: 'decompose.plan.yaml', verifyAvailable: true });
    expect(questions[0]).toBe('1. decompose.plan.yaml exists: refresh or replace it? [refresh]');
    expect(questions.at(-1)).toBe('8. Run decompose verify now? [no]');
    for (const q of questions) expect(`  - ${q}`.length).toBeLessThanOrEqual(80);
  });
});

describe('progress on stderr', () => {
  function sink(isTTY: boolean) {
    const chunks: string[] = [];
    return { stream: { isTTY, write: (text: string) => chunks.push(text) }, chunks };
  }

  it('in a terminal: one line redrawn in place with a bar, ended by a check mark and the time', () => {
    const { stream, chunks } = sink(true);
    let t = 0;
    const step = createProgress({ stream, color: plain, quiet: false, now: () => t }).start('Analysing 200 files');
    for (let i = 1; i <= 200; i++) step.update(i, 200);
    t = 1500;
    step.succeed('Analysed 200 modules');
    // Redrawn once per percent, not once per file.
    expect(chunks.length).toBeLessThanOrEqual(103);
    expect(chunks.slice(1, -1).every((c) => c.startsWith('\r\u001b[2K'))).toBe(true);
    expect(chunks.at(-2)).toContain('████████████████████████ 200/200');
    expect(chunks.at(-1)).toBe('\r\u001b[2K✔ Analysed 200 modules (1.5 s)\n');
    for (const c of chunks) expect(visible(c.replace('\r', '')).length).toBeLessThanOrEqual(80);
  });

  it('elsewhere: plain lines, at most three updates, no control characters', () => {
    const { stream, chunks } = sink(false);
    const step = createProgress({ stream, color: plain, quiet: false, now: () => 0 }).start('Analysing 200 files');
    for (let i = 1; i <= 200; i++) step.update(i, 200);
    step.succeed('Analysed 200 modules');
    expect(chunks).toEqual(['Analysing 200 files…\n', '  50/200\n', '  100/200\n', '  150/200\n', '✔ Analysed 200 modules (0.0 s)\n']);
    const failed = sink(false);
    createProgress({ stream: failed.stream, color: plain, quiet: false }).start('Writing').fail();
    expect(failed.chunks.at(-1)).toBe('✖ Writing: failed\n');
  });

  it('says nothing with --quiet', () => {
    const { stream, chunks } = sink(true);
    const step = createProgress({ stream, color: plain, quiet: true }).start('Analysing');
    step.update(1, 2);
    step.succeed('done');
    expect(chunks).toEqual([]);
  });
});
