import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../util/errors.js';
import { PartitionReader } from './module-reader.js';
import type { WorkerInput, WorkerMessage } from './partitions.js';

// A worker thread that reads one partition of the program (see partitions.ts): its modules, then, once the
// partitions' call indexes are merged and sent here, its routes. Progress goes to its own port every
// PROGRESS_STEP modules, where the busy main thread reads it synchronously.
const PROGRESS_STEP = 50;

const port = parentPort!;
const { layout, owned, readsSql, progress } = workerData as WorkerInput;
const send = (message: WorkerMessage) => port.postMessage(message);
const fail = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  send({ type: 'error', error: { message: e.message, stack: e.stack, code: isUserError(e) ? e.code : undefined, hint: isUserError(e) ? e.hint : undefined } });
  progress.close();
  port.close();
};

let reported = 0;
const reader = new PartitionReader(layout, owned, {
  readsSql,
  onProgress: (done) => {
    if (done - reported >= PROGRESS_STEP || done === owned.length) {
      reported = done;
      progress.postMessage(done);
    }
  },
});
try {
  send({ type: 'modules', result: reader.readModules() });
  port.once('message', (callSites: Map<string, number[]>) => {
    try {
      send({ type: 'routes', result: reader.readRoutes(callSites) });
      progress.close();
      port.close();
    } catch (error) {
      fail(error);
    }
  });
} catch (error) {
  fail(error);
}
