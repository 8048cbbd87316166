import type { Principal } from '../app/access.js';
import type { CommandContext } from '../app/command-context.js';
import type { DomainError } from '../domain/errors.js';
import type { Limits } from '../limits.js';
import type { Trialog } from '../trialog.js';

/** What every resolver gets: the service, and who is asking (for event metadata). */
export interface GraphQLContext {
  trialog: Trialog;
  command: CommandContext;
  /** The authenticated caller, or why the request is not authenticated. */
  principal: Principal | DomainError;
  /** What a read may ask for (page sizes, filter lists, metric reads, event pages): the configured limits. */
  limits: Limits;
}
