/**
 * The client a command that talks to a server uses: where it is and the key,
 * flags winning over the environment (TRIALOG_URL, TRIALOG_KEY).
 */
import { TrialogClient } from '../client/client.js';
import { DEFAULT_URL } from './commands/connection-options.js';
import { UsageError } from './exit-codes.js';

export function clientFrom(
  values: { url?: string; key?: string },
  env: NodeJS.ProcessEnv = process.env,
): TrialogClient {
  const url = values.url ?? (env.TRIALOG_URL || DEFAULT_URL);
  // A URL that cannot be one is a usage error now, not "unreachable" after the retries.
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new UsageError(`--url must be an http(s) URL such as ${DEFAULT_URL} (got ${JSON.stringify(url)})`);
  }
  const key = values.key ?? (env.TRIALOG_KEY || undefined);
  return new TrialogClient({ url, key });
}
