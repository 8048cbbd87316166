/**
 * EVENTSTORE_URL checked at start with the client's own parser, so that what
 * the client would refuse or ignore stops the start with one line (exit 2)
 * rather than a stack trace at the first call, or a setting silently dropped.
 *
 * The client throws a ParseError carrying the whole string (password
 * included) and prints warnings that quote it: neither is shown. What is
 * returned names the problem, never the string's credentials.
 */
import { createRequire } from 'node:module';

/**
 * Warnings of the client's parser that mean a setting in the string would have no effect: refused (a
 * mistyped `tsl=false` would otherwise leave TLS on, and `tlsVerifyCert=false` is not supported by this client).
 */
const IGNORED = /will be ignored|will have no effect/;

/** What is wrong with the connection string, or undefined when the client takes it as it is. */
export function connectionStringProblem(connectionString: string): string | undefined {
  // Loaded here, and only when EVENTSTORE_URL is set: the client takes a few hundred milliseconds to load.
  const { EventStoreDBClient } = createRequire(import.meta.url)(
    '@eventstore/db-client',
  ) as typeof import('@eventstore/db-client');
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  try {
    // Parses the string, reads any certificate files it names, and connects to nothing.
    EventStoreDBClient.connectionString(connectionString);
  } catch (error) {
    const { location, expected } = error as { location?: [number, number]; expected?: string };
    if (location && expected)
      return `is not a valid connection string (at character ${location[0]}: expected ${expected})`;
    // The client's other refusals (a certificate file not found, a negative keepAliveInterval) quote no credentials.
    return `is not usable: ${(error as Error).message}`;
  } finally {
    console.warn = warn;
  }
  // Other warnings (a keepAliveInterval under the recommended one) quote no string: the client prints them again
  // when the store opens.
  const ignored = warnings.map((warning) => warning.split('\n')[0]!).find((first) => IGNORED.test(first));
  return ignored === undefined ? undefined : `has a setting the client would not apply (${ignored.replace(/\.$/, '')})`;
}
