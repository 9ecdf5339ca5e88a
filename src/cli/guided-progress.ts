import type { ChalkInstance } from 'chalk';

/*
 * Progress of the guided run's long steps, on stderr. In a terminal a step is one line redrawn in place (a bar
 * when it has a count); elsewhere (CI, a pipe, a log file) it degrades to plain lines: one when the step starts,
 * at most three while it runs (at a quarter, half and three quarters), one when it ends.
 *
 * Hand-rolled rather than ora or listr2: every long step of decompose is synchronous work (the TypeScript parse,
 * clustering, rendering), so the event loop is busy while it runs and a timer-driven spinner would freeze. A bar
 * redrawn from the stage's own progress callback moves; it needs no dependency and no cursor hiding that a
 * Ctrl-C could leave behind.
 */

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface Step {
  /** `done` of `total` items (files) so far. */
  update(done: number, total: number): void;
  /** Ends the step with a one-line summary. */
  succeed(summary: string): void;
  /** Ends the step as failed (the error itself is reported by the caller). */
  fail(): void;
}

export interface ProgressOptions {
  stream: ProgressStream;
  color: ChalkInstance;
  quiet: boolean;
  /** Columns available (80 unless the terminal says otherwise; never more than 80 so transcripts stay narrow). */
  columns?: number;
  now?: () => number;
}

const BAR = 24;

export function createProgress(options: ProgressOptions): { start(label: string): Step } {
  const { stream, color, quiet } = options;
  const tty = stream.isTTY === true;
  const columns = Math.min(80, options.columns ?? 80);
  const now = options.now ?? Date.now;
  return {
    start(label: string): Step {
      const started = now();
      let lastDrawn = -1;
      let lastQuarter = 0;
      let ended = false;
      const seconds = () => `${((now() - started) / 1000).toFixed(1)} s`;
      if (!quiet) stream.write(tty ? `${color.cyan('…')} ${label}` : `${label}…\n`);
      return {
        update(done, total) {
          if (quiet || ended || total <= 0) return;
          if (tty) {
            // Redraw when the bar or the count moves visibly, not on every file of a large project.
            const step = Math.floor((done / total) * 100);
            if (step === lastDrawn && done !== total) return;
            lastDrawn = step;
            stream.write(`\r\u001b[2K${fit(`${color.cyan('…')} ${label}  ${bar(done, total, color)} ${done}/${total}`, columns)}`);
            return;
          }
          const quarter = Math.floor((done / total) * 4);
          if (quarter > lastQuarter && quarter < 4) {
            lastQuarter = quarter;
            stream.write(`  ${done}/${total}\n`);
          }
        },
        succeed(summary) {
          if (ended) return;
          ended = true;
          if (quiet) return;
          const text = `${color.green('✔')} ${summary} ${color.dim(`(${seconds()})`)}`;
          stream.write(tty ? `\r\u001b[2K${text}\n` : `${text}\n`);
        },
        fail() {
          if (ended) return;
          ended = true;
          if (quiet) return;
          stream.write(tty ? `\r\u001b[2K${color.red('✖')} ${label}\n` : `${color.red('✖')} ${label}: failed\n`);
        },
      };
    },
  };
}

function bar(done: number, total: number, color: ChalkInstance): string {
  const filled = Math.round((Math.min(done, total) / total) * BAR);
  return `${color.cyan('█'.repeat(filled))}${color.dim('░'.repeat(BAR - filled))}`;
}

/** Cuts a line to the width, counting visible characters only (colour codes take no column). */
function fit(text: string, columns: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\u001b') {
      const end = text.indexOf('m', i);
      out += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= columns - 1) continue;
    out += text[i];
    visible++;
  }
  return out;
}
