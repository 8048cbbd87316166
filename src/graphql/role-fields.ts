/**
 * Which roles may call which root fields of the API. The table lives in the
 * GraphQL layer because its entries are GraphQL field names; the domain knows
 * the roles (src/domain/access/keys.ts), not the fields. The access plugin
 * (access-plugin.ts) asks `mayCall` before anything executes.
 *
 * Every Mutation field has an entry, even one only admin may call: a new
 * mutation without a role decision fails test/role-fields.test.ts, and one
 * missing here anyway is refused to every role but admin.
 */
import type { Role } from '../domain/access/keys.js';

type NonAdmin = Exclude<Role, 'admin'>;

/** The roles besides admin (who may call every one) that may call each mutation. */
export const MUTATION_ROLES: Readonly<Record<string, readonly NonAdmin[]>> = {
  // A worker's calls, each only for the job its lease holds.
  claimJob: ['worker'],
  heartbeat: ['worker'],
  reportMetric: ['worker'],
  reportMetrics: ['worker'],
  appendLog: ['worker'],
  completeJob: ['worker'],
  failJob: ['worker'],
  releaseJob: ['worker'],
  // Jobs, experiments and training jobs.
  createJob: ['editor'],
  cancelJob: ['editor'],
  retryJob: ['editor'],
  createExperiment: ['editor'],
  pauseExperiment: ['editor'],
  resumeExperiment: ['editor'],
  finishExperiment: ['editor'],
  createTrainingJobs: ['editor'],
  carryMappingsForward: ['editor'],
  // Admin only: the algorithm registry, migrations, keys.
  registerAlgorithm: [],
  retireAlgorithm: [],
  migrateMappings: [],
  createApiKey: [],
  revokeApiKey: [],
};

/** Queries only admin may call; every role calls the others and every subscription. */
export const ADMIN_ONLY_QUERIES: readonly string[] = ['apiKeys'];

const mutationRoles = new Map(Object.entries(MUTATION_ROLES));

export function mayCall(role: Role, operation: 'query' | 'mutation' | 'subscription', field: string): boolean {
  if (role === 'admin') return true;
  if (operation === 'query') return !ADMIN_ONLY_QUERIES.includes(field);
  if (operation === 'subscription') return true;
  return mutationRoles.get(field)?.includes(role) ?? false;
}
