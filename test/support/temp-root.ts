import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Every temporary folder of a test run, and of the programs the tests start (the CLI, redis-server, nginx), is made
// inside one folder that the run removes at its end: tests that stop half-way, or forget to clean up, leave nothing
// in the machine's temp folder. os.tmpdir() reads TMPDIR, which the test processes inherit from here. The cache
// (DECOMPOSE_CACHE) is then the run's own as well, so no test depends on what an earlier run cached.

let root: string | null = null;

export function setup(): void {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'decompose-test-run-'));
  process.env.TMPDIR = root;
}

export function teardown(): void {
  if (root) fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}
