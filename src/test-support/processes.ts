import fs from 'node:fs';
import net from 'node:net';
import { type ResultPromise, execa } from 'execa';

const BLOCK_SIZE = 400;
const BLOCKS = 16;
let handedOut = 0;

/** The lowest port the kernel hands out for `listen(0)` and outgoing connections (32768 unless configured). */
function ephemeralStart(): number {
  try {
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > BLOCK_SIZE * BLOCKS + 1024 ? start : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A loopback port for a server a test starts. Test files run side by side, and a port is free only until the child
 * binds it, so asking the kernel (`listen(0)`) lets two files, or a test and the `verify` it runs, pick the same
 * port: CI once saw a service's probe answered by another file's service. Each vitest worker takes ports from its
 * own block below the kernel's ephemeral range, and never hands out one twice.
 */
export async function freePort(): Promise<number> {
  const pool = (Number(process.env.VITEST_POOL_ID ?? 0) || process.pid) % BLOCKS;
  const blockStart = ephemeralStart() - BLOCK_SIZE * (pool + 1);
  while (handedOut < BLOCK_SIZE) {
    const port = blockStart + handedOut;
    handedOut += 1;
    if (await canListen(port)) return port;
  }
  throw new Error(`test worker ${pool}: all ${BLOCK_SIZE} ports from ${blockStart} handed out or taken`);
}

/** Polls a URL until it answers (any HTTP status), or fails after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * Starts a long-running child (a server) in its own process group, so `stop()` also ends what it
 * started (npm -> sh -> node) and no orphan keeps the port or the output pipe.
 */
export function startProcess(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): {
  child: ResultPromise;
  output: () => string;
  stop: () => Promise<void>;
} {
  const child = execa(command, args, { cwd: options.cwd, env: options.env, reject: false, all: true, stdin: 'ignore', detached: true });
  let output = '';
  child.all?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    child,
    output: () => output,
    stop: async () => {
      signalGroup('SIGTERM');
      const killer = setTimeout(() => signalGroup('SIGKILL'), 5000);
      await child;
      clearTimeout(killer);
    },
  };
}
