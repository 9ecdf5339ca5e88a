/** Exit codes documented in the README. Anything else is a bug and keeps its stack trace. */
export const ExitCode = {
  ok: 0,
  findings: 1,
  badInput: 2,
} as const;

export interface SourcePosition {
  file: string;
  line?: number;
  column?: number;
}

/**
 * The one error type for problems the user can fix: bad input, bad configuration, a refused write.
 * `code` is stable (DEC-0xx) so documentation and tests can refer to it; `hint` says what to do next.
 */
export class UserError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly position: SourcePosition | undefined;
  readonly exitCode: number;
  /** Further problems found alongside the first, so the user sees all of them at once. */
  readonly details: string[];

  constructor(
    code: string,
    message: string,
    options: { hint?: string; position?: SourcePosition; exitCode?: number; details?: string[] } = {},
  ) {
    super(message);
    this.name = 'UserError';
    this.code = code;
    this.hint = options.hint;
    this.position = options.position;
    this.exitCode = options.exitCode ?? ExitCode.badInput;
    this.details = options.details ?? [];
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

export function formatPosition(position: SourcePosition): string {
  let text = position.file;
  if (position.line !== undefined) {
    text += `:${position.line}`;
    if (position.column !== undefined) text += `:${position.column}`;
  }
  return text;
}
