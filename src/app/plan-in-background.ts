import { Worker } from 'node:worker_threads';
import { compiledWorkerScript } from '../util/worker-script.js';
import type { PlanReading } from '../plan/plan-reading.js';
import type { PlanReadingMessage } from '../plan/plan-reading-worker.js';

/**
 * Plans up to this size are read in a worker thread while check analyses. Reading a plan means loading js-yaml, zod
 * and the plan schema and running them, ~70 ms on a fixture where analysing takes ~350 ms; on a program of one
 * partition the second core is half idle. Larger plans come with programs read in two partitions, one of them in a
 * worker already, where a third thread only competed (check at 10,000 modules was 27% over analyze with a
 * plan-reading worker beside the partition worker).
 */
export const BACKGROUND_PLAN_MAX_BYTES = 1_500_000;

/**
 * The compiled worker script. Under the TypeScript sources (the test runner) there is none, and the plan is read on
 * this thread: the same result, only not in parallel.
 */
const WORKER_SCRIPT = compiledWorkerScript('../plan/plan-reading-worker.js', import.meta.url);

export interface BackgroundReading {
  /** What the worker read (see PlanReading); undefined when it failed, and the plan is to be read on this thread. */
  result: Promise<{ reading: PlanReading } | undefined>;
  stop(): void;
}

/** Starts reading a plan in a worker thread, or returns null when the plan is large or there is no worker script. */
export function readPlanInBackground(text: string): BackgroundReading | null {
  if (WORKER_SCRIPT === null || text.length > BACKGROUND_PLAN_MAX_BYTES) return null;
  const worker = new Worker(WORKER_SCRIPT, { workerData: text });
  // The worker never keeps the process alive: a failed analysis exits without waiting for it.
  worker.unref();
  const result = new Promise<{ reading: PlanReading } | undefined>((resolve) => {
    worker.once('message', (message: PlanReadingMessage) => resolve(message.ok ? { reading: message.reading } : undefined));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return { result, stop: () => void worker.terminate() };
}
