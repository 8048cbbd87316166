/**
 * A starting server's first call to EventStoreDB, tried again while the server
 * is unreachable (it may be starting next to Trialog, or restarting), with a
 * line per attempt saying what failed, where (the connection string, its
 * password redacted) and when the next attempt is; after the bound
 * (TRIALOG_STORE_START_SECONDS) it gives up with one line. Without it, the
 * client's error surfaced as a thirty-line stack trace after one attempt.
 */
import { DeadlineExceededError, NotLeaderError, TimeoutError, UnavailableError } from '@eventstore/db-client';
import { redactUrl } from '../../redact-url.js';
import type { EventStore } from '../port.js';
import { StoreUnreachableError, oneLine } from '../unreachable.js';

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 10_000;

/** Failures that a server coming up (or a network coming back) ends; any other is reported at once. */
function isUnreachable(error: unknown): boolean {
  return (
    error instanceof UnavailableError ||
    error instanceof DeadlineExceededError ||
    error instanceof TimeoutError ||
    error instanceof NotLeaderError
  );
}

export interface ReachOptions {
  connectionString: string;
  /** How long to keep trying, in seconds, counted from the first attempt. */
  maxSeconds: number;
  log?: (line: string) => void;
}

/** Resolves once the store answers a read of the log's head; throws StoreUnreachableError after the bound. */
export async function reachAtStart(store: Pick<EventStore, 'headPosition'>, options: ReachOptions): Promise<void> {
  const where = `EventStoreDB at ${redactUrl(options.connectionString)}`;
  const log = options.log ?? ((line: string) => console.error(`trialog: ${line}`));
  const started = Date.now();
  const deadline = started + options.maxSeconds * 1000;
  let retryMs = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await store.headPosition();
      return;
    } catch (error) {
      if (!isUnreachable(error)) {
        // Access denied (reading $all needs a user in $admins or $ops), a bad certificate: no retry mends it.
        throw new StoreUnreachableError(`${where} refused to read the log: ${oneLine(error)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreUnreachableError(
          `${where} is unreachable: gave up after ${attempt} attempts in ${Math.round((Date.now() - started) / 1000)} s ` +
            `(TRIALOG_STORE_START_SECONDS=${options.maxSeconds}): ${oneLine(error)}`,
        );
      }
      const wait = Math.min(retryMs, left);
      log(
        `${where} is unreachable (attempt ${attempt}: ${oneLine(error)}); next attempt in ${Math.ceil(wait / 1000)} s`,
      );
      await new Promise((resolve) => setTimeout(resolve, wait));
      retryMs = Math.min(retryMs * 2, LONGEST_RETRY_MS);
    }
  }
}
