import type { CommandContext } from '../app/command-context.js';
import type { Trialog } from '../trialog.js';

/** What every resolver gets: the service, and who is asking (for event metadata). */
export interface GraphQLContext {
  trialog: Trialog;
  command: CommandContext;
}
