/**
 * The server's one logger: pino, writing one JSON object a line to stdout.
 * Yoga logs through it too (see `yogaLogger`), so every line the server
 * writes, its own and the GraphQL layer's, has the same shape.
 *
 * Secrets never reach a line by design: the request line (operations.ts) is
 * built from chosen fields, never from variables, results or headers. The
 * `redact` paths are a second belt for a header object logged by mistake.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger } from 'pino';

const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'connectionParams.authorization',
  'leaseToken',
  '*.leaseToken',
  'variables',
  '*.variables',
];

export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  const options = {
    name: 'trialog',
    level,
    // Level names, not numbers, and ISO times: readable by people and log pipelines alike.
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Yoga's logger interface (debug, info, warn, error) over pino: an error object becomes pino's `err`. */
export function yogaLogger(logger: Logger): Record<'debug' | 'info' | 'warn' | 'error', (...args: unknown[]) => void> {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      if (!logger.isLevelEnabled(level)) return;
      const [first, ...rest] = args;
      if (first instanceof Error)
        logger[level]({ err: first }, rest.length ? rest.map(String).join(' ') : first.message);
      else logger[level](args.map((arg) => (typeof arg === 'string' ? arg : String(arg))).join(' '));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Where a library or a test without its own logger writes: warnings and errors only. */
export const quietLogger = (): Logger => createLogger('warn');
