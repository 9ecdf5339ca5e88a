import { UserError } from '../util/errors.js';

/** The UserError `run` throws; anything else it throws is rethrown, and not throwing at all fails the test. */
export function userErrorOf(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
  throw new Error('expected a UserError');
}
