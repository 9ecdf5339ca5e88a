import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/test-support/run-cli.js';
import { processesInside, routesBy, scaffoldedFixture, verify } from './verify-support.js';

/**
 * decompose verify on fixtures/blog-cjs through --record / --replay: the blog's suite runs once against the monolith
 * through a recording proxy; the recording is replayed request by request against a fresh monolith and the
 * decomposed system (nginx, Redis), and the answers are compared.
 *
 * The proposed plan gives the mailer (an outbox kept in module state, used from handlers of two services) one home
 * in reports instead of a shared library, where each service would have kept its own outbox and the admin stats
 * would count only some of the mail. The other service's `mailer.send(…)` (synchronous, its result unused) becomes a
 * call the response waits for, so every request is answered as the monolith answers it.
 */

let dir: string;

/**
 * The blog publishes scheduled posts from a timer (every 5 s), which ticks at its own moment in each process: whether
 * a replayed request lands before or after a tick differs between the two systems and from run to run. The replays
 * stop the timer in both (the recording keeps it), so answers can be compared request by request.
 */
const TIMERS_STOPPED = { SCHEDULER_INTERVAL_MS: String(24 * 3600 * 1000) };

beforeAll(async () => {
  dir = await scaffoldedFixture('blog-cjs');
}, 120_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('decompose verify on fixtures/blog-cjs', () => {
  it('records what the suite sends to the monolith, then replays it against both and names the routes that differ', async () => {
    const file = path.join(dir, 'requests.json');
    const recorded = await runCli(['verify', '--record', file, '--json'], { cwd: dir });
    expect(recorded.exitCode, recorded.stderr).toBe(0);
    // Before it starts anything, verify says what code of the project it runs (even without a terminal).
    expect(recorded.stderr).toContain("note: verify runs the monolith's own code (npm start), your test command `npm run test:api` through a shell");
    const summary = JSON.parse(recorded.stdout) as { requests: number; exitCode: number };
    expect(summary.exitCode).toBe(0);
    expect(summary.requests).toBeGreaterThan(100);
    const recording = JSON.parse(fs.readFileSync(file, 'utf8')) as { format: string; requests: Array<{ method: string; url: string; response: { status: number } }> };
    expect(recording.format).toBe('decompose-recording');
    expect(recording.requests).toHaveLength(summary.requests);
    expect(processesInside(dir)).toEqual([]);

    // The monolith's /healthz reports its uptime in seconds: a field that differs by design. The team records it in
    // the plan, as it would, rather than on every command line.
    fs.appendFileSync(path.join(dir, 'decompose.plan.yaml'), '\nverify:\n  ignoreFields:\n    - uptime\n');
    const { exitCode, report, stderr } = await verify(dir, ['--json', '--replay', file], TIMERS_STOPPED);
    expect(report, stderr).not.toBeNull();
    const r = report!;
    expect(r.mode).toBe('replay');
    expect(r.gateway).toBe('nginx');
    expect(r.contract.requests).toBe(summary.requests);
    expect(routesBy(r, 'failed')).toEqual([]);
    expect(r.contract.differing).toBe(0);
    expect(exitCode).toBe(0);
    expect(r.passed).toBe(true);
    // Every route agrees request for request, generated ids, tokens and session cookies carried along; the stats
    // count all the mail, the auth service's welcome mails included.
    const passed = routesBy(r, 'passed');
    for (const route of ['POST /api/auth/register', 'POST /api/auth/login', 'GET /api/auth/me', 'GET /api/posts/:id', 'POST /api/tags', 'GET /api/media/:id/raw', 'GET /api/search', 'POST /api/posts', 'GET /api/admin/stats', 'GET /healthz']) {
      expect(passed, route).toContain(route);
    }
    expect(passed.length).toBe(r.routes.length);
    expect(r.summary.notExercised).toBe(0);
    for (const route of r.routes) expect(route.monolithP50Ms, route.route).not.toBeNull();
    expect(fs.readFileSync(path.join(dir, 'decomposed', 'MIGRATION.md'), 'utf8')).toMatch(/`services\/mailer\.js:\d+` \(auth\): `send` runs in reports/);
    expect(processesInside(dir)).toEqual([]);

    // The same recording against a plan that keeps the mailer in a shared library (each service its own outbox):
    // the replay names the one route and the one field that differ.
    const planFile = path.join(dir, 'decompose.plan.yaml');
    let text = fs.readFileSync(planFile, 'utf8');
    text = text.replace('      - services/mailer.js\n', '');
    text = text.replace('sharedLibraries:\n', 'sharedLibraries:\n  - name: mail\n    modules:\n      - services/mailer.js\n');
    fs.writeFileSync(planFile, text);
    for (const args of [['plan', dir, '--refresh'], ['scaffold', dir, '--only', 'services,gateway']]) {
      const step = await runCli(args);
      expect(step.exitCode, `${args[0]}: ${step.stderr}`).toBe(0);
    }
    expect(fs.readFileSync(path.join(dir, 'PLAN.md'), 'utf8')).toContain('move services/mailer.js into reports (its modules use it most)');
    const split = await verify(dir, ['--json', '--replay', file], TIMERS_STOPPED);
    expect(split.report, split.stderr).not.toBeNull();
    expect(split.exitCode).toBe(1);
    expect(routesBy(split.report!, 'failed')).toEqual(['GET /api/admin/stats']);
    const stats = split.report!.routes.find((x) => x.route === 'GET /api/admin/stats')!;
    expect(stats.differences.flatMap((d) => d.differences.map((x) => x.at))).toEqual(['body.mailOutbox']);
    expect(processesInside(dir)).toEqual([]);
  }, 600_000);

  it('refuses bad input with one line and exit 2', async () => {
    const missing = await runCli(['verify', '--replay', 'nope.har'], { cwd: dir });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.split('\n')[0]).toMatch(/^error DEC-101 .*nope\.har: cannot read the requests to replay/);
    const both = await runCli(['verify', '--replay', 'a.json', '--record', 'b.json'], { cwd: dir });
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('DEC-119');
    const kill = await runCli(['verify', '--kill', 'nosuch', '--test-command', 'true'], { cwd: dir });
    expect(kill.exitCode).toBe(2);
    expect(kill.stderr.split('\n')[0]).toMatch(/^error DEC-117 --kill nosuch: not a service of the plan/);
    expect(kill.stderr).not.toMatch(/\n\s+at /);
    const noScaffold = await runCli(['verify', '--out', path.join(dir, 'elsewhere'), '--test-command', 'true'], { cwd: dir });
    expect(noScaffold.exitCode).toBe(2);
    expect(noScaffold.stderr).toContain('DEC-100');
    expect(processesInside(dir)).toEqual([]);
  }, 60_000);
});
