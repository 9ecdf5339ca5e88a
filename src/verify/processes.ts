import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import { freePort } from '../util/free-port.js';

/**
 * Every process a verify run starts goes through one supervisor: each runs in its own process group (so what it
 * starts in turn, npm → sh → node, ends with it), writes its output to a log file, and is stopped by signalling
 * its group: SIGTERM, then SIGKILL after a grace period. `stopAll()` runs on success, on failure and on Ctrl-C;
 * a synchronous SIGKILL sweep on process exit is the last resort, so no run leaves an orphan holding a port.
 */

export interface StartSpec {
  /** Name used in messages and for the log file. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string | undefined>;
  logFile: string;
  /** Run through a shell: only for the user's own `--test-command`. */
  shell?: boolean;
}

export interface Supervised {
  name: string;
  pid: number | undefined;
  logFile: string;
  /** Resolves when the process has ended (never rejects). */
  exited: Promise<{ exitCode: number | undefined; signal: string | undefined }>;
  isRunning(): boolean;
  /** Signals the whole group; resolves once the process has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export class Supervisor {
  private readonly running = new Set<Supervised>();
  private readonly onExit = () => this.killAllNow();

  constructor() {
    process.once('exit', this.onExit);
  }

  start(spec: StartSpec): Supervised {
    fs.appendFileSync(spec.logFile, '');
    const log = { file: spec.logFile, append: true } as const;
    const env = Object.fromEntries(Object.entries(spec.env).filter((e): e is [string, string] => e[1] !== undefined));
    const base = { cwd: spec.cwd, env, extendEnv: false, reject: false, stdin: 'ignore', stdout: log, stderr: log, detached: true } as const;
    const child: ResultPromise = spec.shell ? execa(spec.command, { ...base, shell: true }) : execa(spec.command, spec.args, base);
    let done = false;
    const exited = (async () => {
      const result = await child;
      done = true;
      return { exitCode: result.exitCode, signal: result.signal ?? undefined };
    })();
    const signalGroup = (signal: NodeJS.Signals) => {
      if (done || child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // the group is gone already
      }
    };
    const handle: Supervised = {
      name: spec.name,
      pid: child.pid,
      logFile: spec.logFile,
      exited,
      isRunning: () => !done,
      stop: async (signal = 'SIGTERM', graceMs = 5000) => {
        signalGroup(signal);
        const killer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
        await exited;
        clearTimeout(killer);
        // What the group left behind (a grandchild that ignored SIGTERM) goes too.
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // nothing left
          }
        }
        this.running.delete(handle);
      },
    };
    this.running.add(handle);
    return handle;
  }

  /** Stops everything still running, most recently started first (the gateway before the services). */
  async stopAll(graceMs = 5000): Promise<void> {
    const all = [...this.running].reverse();
    await Promise.all(all.map((p) => p.stop('SIGTERM', graceMs)));
    process.removeListener('exit', this.onExit);
  }

  /** Synchronous last resort (process exit): SIGKILL to every group still known. */
  killAllNow(): void {
    for (const p of this.running) {
      if (p.pid === undefined || !p.isRunning()) continue;
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}


/** Distinct free ports (the OS could hand out the same one twice after a release). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Whether something accepts TCP connections on the loopback port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Polls `url` until it answers with a status `accept` takes (default: any), the process exits, or the time is up.
 * Returns null when ready, else the reason.
 */
/**
 * Polls `url` until `accept` takes its answer (it returns why not, or null; without it any answer will do). Gives up
 * with the reason when the process exits first or the time runs out.
 */
export async function waitForHttp(
  url: string,
  options: { timeoutMs: number; process?: Supervised; accept?: (status: number, body: string) => string | null },
): Promise<string | null> {
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (options.process && !options.process.isRunning()) {
      const { exitCode, signal } = await options.process.exited;
      return `exited (${signal ?? `code ${String(exitCode)}`}) before it was ready`;
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      const refused = options.accept ? options.accept(res.status, body) : null;
      if (refused === null) return null;
      last = refused;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return `not ready after ${Math.round(options.timeoutMs / 1000)} s (${last})`;
}

/** For `waitForHttp`: only a 200 will do. */
export function status200(status: number): string | null {
  return status === 200 ? null : `answered ${status}`;
}

/**
 * The process id of the Redis server answering on a loopback port (from `INFO server`), or null when nothing answers
 * there, or something that is not Redis, within `timeoutMs`.
 */
export function redisProcessId(port: number, timeoutMs = 1000): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    let settled = false;
    const settle = (pid: number | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(timeoutMs, () => settle(null));
    socket.once('error', () => settle(null));
    socket.once('end', () => settle(null));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const found = /process_id:(\d+)/.exec(answer);
      if (found) settle(Number(found[1]));
      else if (answer.length > 65_536) settle(null);
    });
  });
}

/** Whether process `pid` is `child` or in its process group (the supervisor starts each child in a group of its own). */
export function isProcessOf(pid: number, child: Supervised): boolean {
  if (child.pid === undefined) return false;
  if (pid === child.pid) return true;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === child.pid;
  } catch {
    return false;
  }
}

/** The last `lines` lines of a log file (for messages). */
export function tail(file: string, lines = 20): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n').trim();
  } catch {
    return '';
  }
}

export { freePort };
