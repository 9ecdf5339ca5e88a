import os from 'node:os';
import path from 'node:path';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { UserError } from '../util/errors.js';
import { toRepoPath } from '../util/paths.js';
import { compiledWorkerScript } from '../util/worker-script.js';
import { type PartitionModules, PartitionReader } from './module-reader.js';
import type { ProjectLayout } from './project.js';
import type { PartitionRoutes } from './route-table.js';

/**
 * Below this many files one thread reads the whole program. A second thread warms up its own compiler and
 * analyzer, parses some modules twice and doubles the collector's work; measured on two cores (BENCHMARKS.md) that
 * costs more than it saves at 1,000 modules (2.5 s against 2.2 s), breaks even at 2,000 and pays at 5,000
 * (6.2 s against 7.0 s) and 10,000 (12.1 s against 14.6–16.6 s).
 */
export const PARTITION_MIN_FILES = 3000;
/**
 * How many partitions a large program is read in. A function of the input only, never of the machine, so that
 * the analysis is the same everywhere; the partitions run side by side on as many cores as there are.
 */
const PARTITIONS = 2;
/** A cut between partitions may move this far (share of the files) from the even split to fall between folders. */
const CUT_SLACK = 0.05;
/**
 * How many files the first partition, read on this thread, takes beyond the others in a large program: the worker
 * threads start reading later, once they have loaded their own compiler and analyzer. Since the compiler loads
 * from V8's code cache the worker starts reading 120–180 ms after this thread (it was twice that), about 120
 * modules at ~1.2 ms each. At 5,000 modules, four runs each: with 200 this thread finished 120–300 ms after the
 * worker, with 0 80–170 ms before it, with 100 within 15–210 ms after it.
 */
const HEAD_START_FILES = 100;

/**
 * Splits the project's files (indexes into layout.files, ascending) into partitions of about the same size (the first a
 * little larger, see HEAD_START_FILES). Each is a run of files in path order, cut between folders where that keeps the
 * sizes near even: modules of one folder mostly use each other, so each partition follows few values into the
 * other's modules.
 */
export function partitionFiles(layout: ProjectLayout, requested?: number): number[][] {
  const count = layout.files.length;
  const partitions = Math.max(1, Math.min(requested ?? (count >= PARTITION_MIN_FILES ? PARTITIONS : 1), count));
  const folders = layout.files.map((file) => path.posix.dirname(toRepoPath(layout.root, file)).split('/'));
  const headStart = count >= PARTITION_MIN_FILES ? HEAD_START_FILES : 0;
  const cuts: number[] = [];
  for (let part = 1; part < partitions; part++) {
    const even = headStart + Math.round(((count - headStart) * part) / partitions);
    cuts.push(cutNear(folders, even, Math.floor(count * CUT_SLACK)));
  }
  const bounds = [0, ...cuts, count];
  return bounds.slice(0, -1).map((start, part) => range(start, bounds[part + 1]!));
}

/** The index nearest `even` at which the files before and after differ in their shallowest possible folder. */
function cutNear(folders: string[][], even: number, slack: number): number {
  // Not Math.max(...): a spread of hundreds of thousands of arguments overflows the stack.
  const deepest = folders.reduce((most, f) => Math.max(most, f.length), 0);
  for (let depth = 1; depth <= deepest; depth++) {
    const key = (index: number) => folders[index]!.slice(0, depth).join('/');
    for (let distance = 0; distance <= slack; distance++) {
      for (const at of [even - distance, even + distance]) {
        if (at > 0 && at < folders.length && key(at - 1) !== key(at)) return at;
      }
    }
  }
  return even;
}

function range(start: number, end: number): number[] {
  return Array.from({ length: end - start }, (_, i) => start + i);
}

export interface ReadOptions {
  readsSql: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** One partition being read, here or in a worker thread. */
interface PartitionRun {
  modules: Promise<PartitionModules>;
  routes(callSites: ReadonlyMap<string, readonly number[]>): Promise<PartitionRoutes>;
  /** Takes in the progress the partition has reported so far (this thread is busy reading while it runs). */
  pollProgress(): void;
  stop(): void;
}

/**
 * Reads the partitions, the first on this thread and each other one in a worker thread when the machine has a
 * core for it, and returns their plain results in partition order. Between the two steps of reading (see
 * PartitionReader) the partitions' call indexes are merged and handed to each.
 */
export async function readPartitions(
  layout: ProjectLayout,
  partitions: number[][],
  options: ReadOptions,
): Promise<{ modules: PartitionModules[]; routes: PartitionRoutes[] }> {
  const total = layout.files.length;
  const done = partitions.map(() => 0);
  const progress = (part: number) => (count: number) => {
    done[part] = count;
    options.onProgress?.(done.reduce((a, b) => a + b, 0), total);
  };
  if (partitions.length === 1) {
    const reader = new PartitionReader(layout, partitions[0]!, { readsSql: options.readsSql, onProgress: progress(0) });
    const modules = reader.readModules();
    return { modules: [modules], routes: [reader.readRoutes(null)] };
  }
  const threads = Math.max(1, Math.min(partitions.length, os.availableParallelism()));
  const others: PartitionRun[] = partitions.slice(1).map((owned, i) =>
    i + 1 < threads && WORKER_SCRIPT !== null
      ? inWorker(layout, owned, options.readsSql, progress(i + 1))
      : inThisThread(layout, owned, options.readsSql, progress(i + 1)),
  );
  try {
    const progressHere = progress(0);
    const onProgress = (count: number) => {
      for (const run of others) run.pollProgress();
      progressHere(count);
    };
    const here = new PartitionReader(layout, partitions[0]!, { readsSql: options.readsSql, onProgress });
    const modules = [here.readModules(), ...(await Promise.all(others.map((run) => run.modules)))];
    for (const run of others) run.pollProgress();
    const callSites = mergeCallSites(modules);
    const pending = others.map((run) => run.routes(callSites));
    const routes = [here.readRoutes(callSites), ...(await Promise.all(pending))];
    return { modules, routes };
  } finally {
    for (const run of others) run.stop();
  }
}

/** The call index of the whole program: every partition's entries, in file order and then call-site order. */
export function mergeCallSites(parts: PartitionModules[]): Map<string, number[]> {
  const merged = new Map<string, number[]>();
  for (const part of parts) {
    for (const [key, sites] of part.callSites) {
      const list = merged.get(key);
      // A loop, not push(...sites): a function called from a hundred thousand places would overflow the stack.
      if (list) for (const site of sites) list.push(site);
      else merged.set(key, [...sites]);
    }
  }
  for (const [key, sites] of merged) {
    if (sites.length <= 2) continue;
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < sites.length; i += 2) pairs.push([sites[i]!, sites[i + 1]!]);
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    merged.set(key, pairs.flat());
  }
  return merged;
}

/** A partition read on this thread, after the first (when there is no core or no worker script for it). */
function inThisThread(layout: ProjectLayout, owned: number[], readsSql: boolean, onProgress: (done: number) => void): PartitionRun {
  const reader = new PartitionReader(layout, owned, { readsSql, onProgress });
  return {
    modules: Promise.resolve().then(() => reader.readModules()),
    routes: async (callSites) => reader.readRoutes(callSites),
    pollProgress: () => {},
    stop: () => {},
  };
}

/**
 * The compiled worker script beside this module. Under the TypeScript sources (the test runner) there is none,
 * and every partition is read on this thread: the same results, only slower.
 */
const WORKER_SCRIPT = compiledWorkerScript('./partition-worker.js', import.meta.url);

/** What the worker sends: progress, each step's result, or the error that stopped it. */
export type WorkerMessage =
  | { type: 'modules'; result: PartitionModules }
  | { type: 'routes'; result: PartitionRoutes }
  | { type: 'error'; error: { message: string; stack?: string; code?: string; hint?: string } };

export interface WorkerInput {
  layout: ProjectLayout;
  owned: number[];
  readsSql: boolean;
  /** Where the worker posts how many of its modules it has read (a number), read synchronously by pollProgress. */
  progress: MessagePort;
}

function inWorker(layout: ProjectLayout, owned: number[], readsSql: boolean, onProgress: (done: number) => void): PartitionRun {
  const channel = new MessageChannel();
  const worker = new Worker(WORKER_SCRIPT!, {
    workerData: { layout, owned, readsSql, progress: channel.port2 } satisfies WorkerInput,
    transferList: [channel.port2],
  });
  let settleModules: { resolve: (m: PartitionModules) => void; reject: (e: Error) => void } | null = null;
  let settleRoutes: { resolve: (r: PartitionRoutes) => void; reject: (e: Error) => void } | null = null;
  const fail = (error: Error) => {
    settleModules?.reject(error);
    settleRoutes?.reject(error);
    settleModules = settleRoutes = null;
  };
  const modules = new Promise<PartitionModules>((resolve, reject) => {
    settleModules = { resolve, reject };
  });
  // Rejections surface where each step is awaited; a failure before then must not count as unhandled.
  modules.catch(() => {});
  worker.on('message', (message: WorkerMessage) => {
    if (message.type === 'modules') settleModules?.resolve(message.result);
    else if (message.type === 'routes') settleRoutes?.resolve(message.result);
    else fail(errorFrom(message.error));
  });
  worker.on('error', (error) => fail(error));
  worker.on('exit', (code) => fail(new Error(`the analysis worker stopped (exit code ${code}) before it finished`)));
  return {
    modules,
    routes: (callSites) => {
      const routes = new Promise<PartitionRoutes>((resolve, reject) => {
        settleRoutes = { resolve, reject };
      });
      worker.postMessage(callSites);
      return routes;
    },
    pollProgress: () => {
      let latest: { message: number } | undefined;
      for (let next = receiveMessageOnPort(channel.port1); next; next = receiveMessageOnPort(channel.port1)) latest = next;
      if (latest) onProgress(latest.message);
    },
    stop: () => {
      channel.port1.close();
      void worker.terminate();
    },
  };
}

function errorFrom(error: { message: string; stack?: string; code?: string; hint?: string }): Error {
  if (error.code) return new UserError(error.code, error.message, { hint: error.hint });
  const out = new Error(error.message);
  if (error.stack) out.stack = error.stack;
  return out;
}
