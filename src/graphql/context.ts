import type { Principal } from '../app/access.js';
import type { CommandContext } from '../app/command-context.js';
import type { TrialogServices } from '../app/services.js';
import type { DomainError } from '../domain/errors.js';
import type { Limits } from '../limits.js';

/**
 * What every resolver gets: the application's services (never the store, the projection runner,
 * the live feed or the read-model database: see `TrialogServices`), and who is asking.
 */
export interface GraphQLContext {
  /** The services (named `trialog` as before the composition root was kept out of the context). */
  trialog: TrialogServices;
  command: CommandContext;
  /** The authenticated caller, or why the request is not authenticated. */
  principal: Principal | DomainError;
  /** What a read may ask for (page sizes, filter lists, metric reads, event pages): the configured limits. */
  limits: Limits;
}
