/**
 * Configuration from the environment, checked once at start. A bad value
 * stops the server with one line naming the variable, not a stack trace.
 */
import { z } from 'zod';

const Config = z.object({
  PORT: z.coerce
    .number({ error: 'must be a whole number from 0 to 65535' })
    .int('must be a whole number from 0 to 65535')
    .min(0, 'must be a whole number from 0 to 65535')
    .max(65535, 'must be a whole number from 0 to 65535')
    .default(4000),
  HOST: z.string().min(1, 'must not be empty').default('127.0.0.1'),
  TRIALOG_DB: z.string().min(1, 'must be a file path or :memory:').default('./data/trialog.db'),
  EVENTSTORE_URL: z
    .string()
    .regex(/^esdb(\+discover)?:\/\/.+/, 'must be an esdb:// connection string, e.g. esdb://localhost:2113?tls=false')
    .optional(),
  TRIALOG_SYNCHRONOUS: z.enum(['FULL', 'NORMAL'], { error: 'must be FULL or NORMAL' }).default('FULL'),
});

export interface TrialogConfig {
  port: number;
  host: string;
  /** SQLite file for the event store (embedded mode) and the read models. */
  dbPath: string;
  /** When set, events live in EventStoreDB; `dbPath` then holds only read models. */
  eventStoreUrl: string | undefined;
  synchronous: 'FULL' | 'NORMAL';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): TrialogConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = Config.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`invalid configuration: ${name} ${issue.message} (got ${JSON.stringify(env[name])})`);
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dbPath: c.TRIALOG_DB,
    eventStoreUrl: c.EVENTSTORE_URL,
    synchronous: c.TRIALOG_SYNCHRONOUS,
  };
}
