/**
 * A `JSON.parse` failure as one line, with its position when there is one. V8 quotes the offending text in the
 * message (`Unexpected token 'x', "x\ny…" is not valid JSON`), which can carry line breaks and control characters
 * into what must be a one-line error, and it gives the position only sometimes (`at position N`; Node 22 also
 * `(line L column C)`).
 */
export function describeJsonError(text: string, error: unknown): { message: string; line?: number; column?: number } {
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw
    .replace(/, "[\s\S]*" is not valid JSON$/, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(raw);
  if (lineColumn) return { message, line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  const offset = /at position (\d+)/.exec(raw)?.[1] ?? (/Unexpected end of JSON input/.test(raw) ? String(text.length) : null);
  if (offset === null) return { message };
  const before = text.slice(0, Math.min(Number(offset), text.length)).split('\n');
  return { message, line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
