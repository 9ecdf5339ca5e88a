import { parentPort, workerData } from 'node:worker_threads';
import { readPlan } from './parse-plan.js';
import type { PlanReading } from './plan-reading.js';

// A worker thread that reads a plan's text to its value and shape (see app/plan-in-background.ts): js-yaml, zod
// and the plan schema load and run here, on the other core, while the main thread analyses the code.

export type PlanReadingMessage = { ok: true; reading: PlanReading } | { ok: false };

let message: PlanReadingMessage;
try {
  message = { ok: true, reading: readPlan(workerData as string) };
} catch {
  // Whatever went wrong here, the main thread reads the plan itself and reports it.
  message = { ok: false };
}
parentPort!.postMessage(message);
