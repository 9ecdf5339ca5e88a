import { type ResultPromise, execa } from 'execa';

export { freePort } from '../util/free-port.js';

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
