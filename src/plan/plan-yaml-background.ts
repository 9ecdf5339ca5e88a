import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { PARSE_OPTIONS, TO_JS_OPTIONS } from './plan-file.js';

/** A plan's YAML read without errors: the value `parsePlan` validates. */
export interface PlanYamlValue {
  value: unknown;
}

export interface BackgroundPlanYaml {
  /** The value, or null when the YAML has errors or the worker failed: `parsePlan` then reads and reports it itself. */
  result: Promise<PlanYamlValue | null>;
  /** Stops the worker (when the command fails before it needs the plan). */
  cancel(): void;
}

/** No background read: `parsePlan` reads the YAML itself. */
export const NOT_IN_BACKGROUND: BackgroundPlanYaml = { result: Promise.resolve(null), cancel: () => {} };

// A script rather than a file beside this one, so that it runs the same from dist/ and from the TypeScript
// sources under vitest; yaml is required by absolute path because the worker's cwd is the user's project.
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const { parseDocument } = require(workerData.yaml);
const doc = parseDocument(workerData.text, workerData.parseOptions);
let message = null;
if (doc.errors.length === 0) {
  try { message = { value: doc.toJS(workerData.toJsOptions) }; } catch { message = null; }
}
try { parentPort.postMessage(message); } catch { parentPort.postMessage(null); }
`;

/**
 * Parses a plan's YAML in a worker thread. `check` starts this before it analyses the code, so on two cores the
 * plan (a megabyte of YAML on a 2,000-module monolith, half a second to parse) is read while the analysis runs.
 */
export function readPlanYamlInBackground(text: string): BackgroundPlanYaml {
  let worker: Worker;
  try {
    worker = new Worker(WORKER_SCRIPT, {
      eval: true,
      workerData: { text, yaml: createRequire(import.meta.url).resolve('yaml'), parseOptions: PARSE_OPTIONS, toJsOptions: TO_JS_OPTIONS },
    });
  } catch {
    return NOT_IN_BACKGROUND;
  }
  const result = new Promise<PlanYamlValue | null>((resolve) => {
    worker.once('message', (message: PlanYamlValue | null) => resolve(message));
    worker.once('error', () => resolve(null));
    worker.once('exit', () => resolve(null));
  });
  return { result, cancel: () => void worker.terminate() };
}
