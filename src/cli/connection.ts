/**
 * The options every command that talks to a server shares: where it is, the
 * key, and whether to print JSON. Flags win over the environment.
 */
import { TrialogClient } from '../client/client.js';
import { UsageError } from './exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

export const connectionOptions = {
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const CONNECTION_HELP = `connection:
  --url URL        the server's GraphQL endpoint (default $TRIALOG_URL, else ${DEFAULT_URL})
  --key KEY        an API key (default $TRIALOG_KEY); not needed on a server running open on loopback
  --json           print JSON for scripts instead of tables`;

export function clientFrom(values: { url?: string; key?: string }, env: NodeJS.ProcessEnv = process.env): TrialogClient {
  const url = values.url ?? (env.TRIALOG_URL || DEFAULT_URL);
  // A URL that cannot be one is a usage error now, not "unreachable" after the retries.
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`--url must be an http(s) URL such as ${DEFAULT_URL} (got ${JSON.stringify(url)})`);
  }
  const key = values.key ?? (env.TRIALOG_KEY || undefined);
  return new TrialogClient({ url, key });
}
