/**
 * What of the audit log each role is served. Every role reads the log, but:
 * - the API keys' stream (key ids, names, roles) is the admin's alone, as the
 *   `apiKeys` query is: other roles read the log as if it were not there (its
 *   positions are skipped), and naming it in a filter is FORBIDDEN;
 * - so are the lease tokens' streams: each is keyed by a hash of a token's
 *   hash, which would let a reader test guesses at a weak worker-chosen token
 *   offline, as the hash itself would;
 * - no reader, the admin included, is served a secret's hash: a key's secret
 *   hash and a lease token's hash stay in the log (authentication and lease
 *   fencing decide on them, across processes and replays, and an export keeps
 *   them so that an imported log fences the same), but never leave the server
 *   through the API. Nothing a reader needs is lost: a hash only ever answers
 *   "is this the secret?", which only the server asks.
 */
import { DomainError } from '../errors.js';
import { categoryOfStream } from '../aggregate-kind.js';
import { leaseTokenKind } from '../job/lease-token.js';
import { keysKind, type Role } from './keys.js';

/** Top-level fields of event data that hold a secret's hash, in any event type that has them. */
const SECRET_HASH_FIELDS: readonly string[] = ['secretHash', 'leaseTokenHash'];

/** Categories of the log a role does not see. */
export function hiddenCategories(role: Role): readonly string[] {
  // The keys' category ('access'), not just its stream: a category filter reaches a stream as surely as its id.
  return role === 'admin' ? [] : [keysKind.category, leaseTokenKind.category];
}

/**
 * A reader's filter, refused when it names what the role does not see (an
 * empty answer would suggest the stream is empty, which is not the truth).
 */
export function checkVisible(role: Role, filter: { streamId?: string; category?: string } | undefined): void {
  const hidden = hiddenCategories(role);
  const named = [filter?.category, filter?.streamId === undefined ? undefined : categoryOfStream(filter.streamId)];
  const refused = named.find((category) => category !== undefined && hidden.includes(category));
  if (refused !== undefined) {
    throw new DomainError('FORBIDDEN', `the ${role} role may not read the ${refused} streams of the audit log`);
  }
}

/** Event data as a reader is served it: the same, less any secret's hash. */
export function withoutSecretHashes(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  if (!SECRET_HASH_FIELDS.some((field) => field in data)) return data;
  const served: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  for (const field of SECRET_HASH_FIELDS) delete served[field];
  return served;
}
