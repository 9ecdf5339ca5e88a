import pino from 'pino';
import { currentRequestId } from './context';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const level = (process.env.LOG_LEVEL ?? '').toLowerCase();

/**
 * JSON logs on stdout, written synchronously (in order, and nothing is lost on exit). `configureService` adds `service`; inside a
 * request every line carries its `requestId`. Level from LOG_LEVEL (default info).
 */
export const logger: pino.Logger = pino({
  level: LEVELS.has(level) ? level : 'info',
  base: null,
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: {
    level: (label) => ({ level: label }),
  },
  mixin() {
    const requestId = currentRequestId();
    return requestId === undefined ? {} : { requestId };
  },
}, pino.destination({ dest: 1, sync: true }));
