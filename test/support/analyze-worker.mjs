// Runs `analyze` (the TypeScript source, through tsx) in a worker thread for test/fuzz.test.ts, so a run that
// hangs can be stopped from the test (worker.terminate()) instead of blocking the whole test process.
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { analyze } = await tsImport('../../src/analyze/analyze.ts', import.meta.url);

parentPort.on('message', async ({ id, dir }) => {
  const started = performance.now();
  try {
    const analysis = await analyze({ dir });
    parentPort.postMessage({
      id,
      ms: performance.now() - started,
      modules: analysis.modules.map((m) => m.path),
      diagnostics: analysis.diagnostics.map((d) => ({ file: d.file, code: d.code, line: d.line, column: d.column })),
      routes: analysis.routes.length,
    });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    // UserError is recognised by shape: the class object lives in the worker's module graph.
    parentPort.postMessage({ id, ms: performance.now() - started, error: { name: e.name, code: e.code ?? null, message: e.message, stack: e.stack ?? '' } });
  }
});
parentPort.postMessage({ ready: true });
