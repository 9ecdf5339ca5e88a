import { execa } from 'execa';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort, startProcess, waitForHttp } from '../src/test-support/processes.js';
import { fixturePath } from '../src/test-support/temp-project.js';

/**
 * The fixture monoliths are real apps: each runs with `npm start` and passes its own black-box HTTP suite
 * against the running server (the same suite later runs against the decomposed system).
 */
describe.each([
  { name: 'shop-ts', health: '/health', minTests: 40 },
  { name: 'blog-cjs', health: '/healthz', minTests: 30 },
])('fixtures/$name', ({ name, health, minTests }) => {
  const dir = fixturePath(name);

  it('passes its HTTP suite against the running monolith (BASE_URL)', async () => {
    const port = await freePort();
    const server = startProcess('npm', ['start', '--silent'], { cwd: dir, env: { PORT: String(port) } });
    try {
      await waitForHttp(`http://127.0.0.1:${port}${health}`);
      const run = await execa('npm', ['run', 'test:api', '--silent'], {
        cwd: dir,
        env: { BASE_URL: `http://127.0.0.1:${port}`, NO_COLOR: '1', CI: 'true' },
        reject: false,
        all: true,
      });
      expect(run.exitCode, run.all).toBe(0);
      const passed = /Tests\s+(\d+) passed/.exec(String(run.all));
      expect(Number(passed?.[1] ?? 0)).toBeGreaterThanOrEqual(minTests);
      // The requests really went to the server we started.
      expect(server.output()).not.toContain('EADDRINUSE');
    } finally {
      await server.stop();
    }
  });

  it('passes its HTTP suite booting the app in-process when BASE_URL is unset', async () => {
    const run = await execa('npm', ['run', 'test:api', '--silent'], { cwd: path.resolve(dir), env: { NO_COLOR: '1', CI: 'true' }, extendEnv: true, reject: false, all: true });
    expect(run.exitCode, run.all).toBe(0);
  });
});
