#!/usr/bin/env node
import v8 from 'node:v8';

// decompose is a short batch run through a great deal of code (the TypeScript parser and the analyzer), most of it
// still warming up when the run ends. V8's optimising compiler inlines up to 920 bytes of bytecode into each
// function it optimises by default; the big functions it builds take long to compile, are thrown away on the first
// unexpected input and compiled again, and that compiling shares the two cores with the analysis. With a budget of
// 150 the analysis spends a tenth less CPU and finishes 5–9% sooner (BENCHMARKS.md); the output is the same. Set
// before any of decompose is loaded, for every thread (V8 flags are per process).
v8.setFlagsFromString('--max-inlined-bytecode-size-cumulative=150');

const { run } = await import('../dist/cli/main.js');

// `decompose … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error && error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await run(process.argv);
