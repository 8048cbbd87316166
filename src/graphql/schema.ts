/** Assembles the GraphQL schema from every type module. */
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './types/node.js';
import './types/event.js';
import './types/job.js';
import './types/experiment.js';
import './types/experiment-jobs.js';
import './types/experiment-job-changes.js';
import './types/mapping.js';
import './types/access.js';

export const schema = builder.toSchema();

/** The schema as committed in `schema/schema.graphql`: sorted, so diffs show real changes. */
export function sortedSchema() {
  return lexicographicSortSchema(schema);
}
