/**
 * What the GraphQL layer (or any other front) may use: the application's
 * queries and commands, access control, the history reader and the live
 * events. The composition root (`src/trialog.ts`) builds it; the store, the
 * projection runner, the live feed and the read-model database stay behind
 * it, so a resolver cannot append, read a connection or switch a pragma.
 */
import type { AccessControl } from './access.js';
import type { ExperimentCommands } from './experiment-commands.js';
import type { History } from './history.js';
import type { JobCommands } from './job-commands.js';
import type { MappingCommands } from './mapping-commands.js';
import type { LiveEvents } from '../live/live-events.js';
import type { ExperimentQueries } from '../../projections/experiments-queries.js';
import type { JobQueries } from '../../projections/jobs-queries.js';
import type { MappingQueries } from '../../projections/mappings-queries.js';

export interface TrialogServices {
  jobQueries: JobQueries;
  jobCommands: JobCommands;
  experimentQueries: ExperimentQueries;
  experimentCommands: ExperimentCommands;
  mappingQueries: MappingQueries;
  mappingCommands: MappingCommands;
  access: AccessControl;
  /** Pages of the audit log and of streams, and aggregates as they stood (time travel). */
  history: History;
  /** Live subscription sources, and the log position the read models have reached. */
  live: LiveEvents;
}
