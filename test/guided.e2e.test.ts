import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { cliPath, ensureBuilt, runCli } from '../src/test-support/run-cli.js';
import { copyFixture } from '../src/test-support/temp-project.js';
import { hasTmux, tmuxServer } from '../src/test-support/tmux.js';

/*
 * The guided run (`decompose` with no command) end to end: in a real pseudo-terminal (tmux send-keys and
 * capture-pane) on a copy of fixtures/shop-ts, and without a terminal as CI and pipes run it.
 */

/** Every file under a folder with a hash of its content: equal snapshots mean nothing was written. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(dir, entry);
    if (fs.statSync(full).isFile()) files[entry] = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------
// In a terminal (tmux)
// ---------------------------------------------------------------------------------------------------------

const { tmux, pane, waitFor, keys, choose, start, end: endSession, stop } = tmuxServer('decompose-guided-test');

/** Runs `decompose` (no command) inside `dir` in an 80×40 terminal; the pane ends with "[exit N]". */
function startGuided(session: string, dir: string): void {
  // `env -u CI`: the CLI never asks under CI, and CI runners set it.
  start(session, `cd ${dir} && env -u CI NO_COLOR=1 ${process.execPath} ${cliPath}; echo "[exit $?]"; sleep 30`, 80, 40);
}

describe.skipIf(!hasTmux && !process.env.CI)('the guided run in a terminal (tmux)', () => {
  beforeAll(() => {
    if (!hasTmux) throw new Error('these tests drive the CLI in a pseudo-terminal and need tmux (apt-get install -y tmux)');
    ensureBuilt('cli/guided-command.js');
  });

  afterAll(stop);

  it('accepts the defaults, renames a service, scaffolds: the plan and the generated tree carry the new name', async () => {
    const dir = copyFixture('shop-ts');
    const session = `guided-${process.pid}`;
    try {
      startGuided(session, dir);
      await waitFor(session, 'What would you like to do with this plan?', 90_000);
      const proposal = pane(session, true);
      expect(proposal).toContain('decompose · guided run');
      expect(proposal).toMatch(/app entry\s+src\/app\.ts/);
      expect(proposal).toMatch(/✔ Analysed 69 modules: 48 routes/);
      expect(proposal).toContain('Data conflicts (1)');
      expect(proposal).toContain('stock: written by inventory, orders');
      expect(proposal).toMatch(/notifications\s+\d+\s+\d+\s+\d+/);

      await choose(session, 'Rename a service');
      await waitFor(session, 'Rename which service?');
      await choose(session, 'notifications');
      await waitFor(session, 'New name for notifications:');
      tmux('send-keys', '-t', session, '-l', 'mailer');
      keys(session, 'Enter');
      await waitFor(session, 'What next? (1 change so far)');
      await choose(session, 'Accept the plan');

      // The scaffold questions: every default.
      await waitFor(session, 'What to scaffold?');
      expect(pane(session)).toMatch(/◎ Redis caching: .* \(always on\)/);
      keys(session, 'Enter');
      await waitFor(session, 'Which CI pipeline?');
      keys(session, 'Enter');
      await waitFor(session, 'Gateway for decompose verify');
      keys(session, 'Enter');
      await waitFor(session, 'Output folder:');
      // Nothing is written before the last question is answered.
      expect(fs.existsSync(path.join(dir, 'decompose.plan.yaml'))).toBe(false);
      keys(session, 'Enter');

      const preview = await waitFor(session, 'Write these files?', 120_000);
      expect(preview).toMatch(/^ {6}mailer\/\s+\d+ new$/m);
      expect(preview).not.toMatch(/^ {6}notifications\//m);
      expect(fs.existsSync(path.join(dir, 'decomposed'))).toBe(false);
      keys(session, 'Enter');

      // verify (when this build has it) and saving the answers: the defaults, No and Yes.
      const next = await waitFor(session, /Run decompose verify now|Save these answers/, 120_000);
      if (next.includes('Run decompose verify now')) {
        keys(session, 'Enter');
        await waitFor(session, 'Save these answers');
      }
      keys(session, 'Enter');
      const end = await waitFor(session, /\[exit \d+\]/, 60_000);
      expect(end).toContain('[exit 0]');

      const transcript = pane(session, true);
      expect(transcript).not.toMatch(/internal error|^\s+at /m);
      expect(transcript).toContain('Equivalent command line (your review changes are in the plan file):');
      expect(transcript).toContain('decompose plan --refresh && decompose scaffold');
      // Nothing the guided run printed was wider than the 80-column terminal.
      expect(pane(session, true, false).split('\n').length).toBe(transcript.split('\n').length);

      const plan = parseYaml(fs.readFileSync(path.join(dir, 'decompose.plan.yaml'), 'utf8')) as { services: Array<{ name: string; dependsOn: string[] }> };
      const names = plan.services.map((s) => s.name);
      expect(names).toContain('mailer');
      expect(names).not.toContain('notifications');
      expect(fs.readFileSync(path.join(dir, 'PLAN.md'), 'utf8')).toMatch(/^\| mailer \|/m);
      expect(fs.existsSync(path.join(dir, 'plan.html'))).toBe(true);
      const services = fs.readdirSync(path.join(dir, 'decomposed', 'services')).sort();
      expect(services).toContain('mailer');
      expect(services).not.toContain('notifications');
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'decomposed', 'services', 'mailer', 'package.json'), 'utf8')).name).toMatch(/mailer$/);
      expect(fs.existsSync(path.join(dir, 'decomposed', 'deploy', 'k8s'))).toBe(true);
      expect(fs.existsSync(path.join(dir, '.github', 'workflows', 'ci.yml'))).toBe(true);
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'decompose.config.json'), 'utf8'))).toMatchObject({ scaffold: { ci: 'github', out: 'decomposed' }, verify: { gateway: 'auto', run: false } });

      // The plan keeps the rename when refreshed, as the printed command line does.
      const before = snapshot(dir);
      expect((await runCli(['plan', '--refresh'], { cwd: dir })).exitCode).toBe(0);
      expect(snapshot(dir)).toEqual(before);
    } finally {
      endSession(session);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Ctrl-C mid-way (after the review, at the scaffold questions) ends cleanly and writes nothing', async () => {
    const dir = copyFixture('shop-ts');
    const before = snapshot(dir);
    const session = `guided-ctrl-c-${process.pid}`;
    try {
      startGuided(session, dir);
      await waitFor(session, 'What would you like to do with this plan?', 90_000);
      await choose(session, 'Accept the plan');
      await waitFor(session, 'What to scaffold?');
      keys(session, 'C-c');
      const end = await waitFor(session, /\[exit \d+\]/, 30_000);
      expect(end).toContain('[exit 2]');
      expect(end).toContain('DEC-132 guided run cancelled: nothing written');
      expect(pane(session, true)).not.toMatch(/internal error|ExitPromptError|^\s+at /m);
      expect(snapshot(dir)).toEqual(before);
    } finally {
      endSession(session);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Without a terminal
// ---------------------------------------------------------------------------------------------------------

describe('the guided run without a terminal', () => {
  it('never asks: prints the questions with the answers --yes would take and exits 2, writing nothing', async () => {
    const dir = copyFixture('shop-ts');
    const before = snapshot(dir);
    const result = await runCli([], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toContain('decompose · guided run');
    expect(result.stderr).toContain('DEC-130 no terminal (stdin is not a TTY): nothing was asked or written');
    expect(result.stderr).toContain('What to scaffold? [services,gateway,docker,k8s,observability]');
    expect(result.stderr).toContain('without questions: decompose plan --yes && decompose scaffold');
    expect(result.stderr).toContain('hint: Run `decompose --yes`');
    for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(snapshot(dir)).toEqual(before);
    // A mistyped command is still a mistyped command.
    const typo = await runCli(['scafold'], { cwd: dir });
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('Did you mean scaffold?');
  });

  it('with --yes takes its answers from decompose.config.json, writes plain progress lines, and prints the command line', async () => {
    const dir = copyFixture('shop-ts');
    fs.writeFileSync(path.join(dir, 'decompose.config.json'), JSON.stringify({ scaffold: { targets: ['services', 'gateway'], ci: 'gitlab', out: 'split' }, verify: { gateway: 'node' } }));
    const result = await runCli(['--yes'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('defaults from decompose.config.json');
    expect(result.stderr).toMatch(/^Analysing 69 files…$/m);
    expect(result.stderr).toMatch(/^✔ Analysed 69 modules: 48 routes, 8 entities, 3 hazards \(\d+\.\d s\)$/m);
    expect(result.stderr).toMatch(/^✔ Wrote split\/: \d+ new \(\d+\.\d s\)$/m);
    expect(result.stdout + result.stderr).not.toMatch(/[\r\u001b]/);
    // The command line, its `\` continuations joined.
    const printed = result.stdout.replace(/ \\\n\s+/g, ' ');
    expect(printed).toContain('Equivalent command line:\n  decompose plan --yes && decompose scaffold --only services,gateway,ci --ci gitlab --out split');
    expect(printed).toContain('Once the plan exists (--refresh keeps its edits):\n  decompose plan --refresh && decompose scaffold --only');
    // The gateway answer goes to verify's --gateway where verify has it, else it is named with where it is kept.
    expect(printed).toMatch(/^ {2}decompose verify --gateway node$|Gateway for decompose verify: node \(in decompose\.config\.json\)/m);
    for (const line of `${result.stdout}\n${result.stderr}`.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);

    for (const file of ['decompose.plan.yaml', 'PLAN.md', 'plan.html', '.gitlab-ci.yml', 'split/services/catalog/package.json', 'split/gateway/nginx.conf']) {
      expect(fs.existsSync(path.join(dir, file)), file).toBe(true);
    }
    expect(fs.existsSync(path.join(dir, 'split', 'deploy'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'decomposed'))).toBe(false);
    expect(fs.existsSync(path.join(dir, '.github'))).toBe(false);
    // No analysis file: the guided run writes what its command line writes.
    expect(fs.existsSync(path.join(dir, 'decompose-analysis.json'))).toBe(false);

    // The printed command line, run word for word, repeats the run: nothing changes.
    const again = /Once the plan exists.*\n {2}(.+)/.exec(printed)![1]!;
    const before = snapshot(dir);
    for (const command of again.split(' && ')) {
      const [program, ...args] = command.split(' ');
      expect(program).toBe('decompose');
      const rerun = await runCli(args, { cwd: dir });
      expect(rerun.exitCode, `${command}: ${rerun.stderr}`).toBe(0);
    }
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a config with a mistake, naming file:line:column, before analysing or writing anything', async () => {
    const dir = copyFixture('shop-ts');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')), decompose: { scaffold: { ci: 'jenkins' } } }, null, 2));
    const before = snapshot(dir);
    const result = await runCli(['--yes'], { cwd: dir });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/DEC-131 .*package\.json:\d+:\d+: scaffold\.ci: expected one of "github", "gitlab", "none"/);
    expect(result.stderr).not.toContain('Analysing');
    expect(snapshot(dir)).toEqual(before);
  });
});
