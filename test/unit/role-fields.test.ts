/**
 * The role-to-field table (src/graphql/role-fields.ts) against the schema the
 * server serves, the one `npm run schema:print` prints: every mutation has a
 * role decision and every entry names a real field, so the table cannot drift
 * from the API. What each role may call is test/access.test.ts's, over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { ADMIN_ONLY_QUERIES, MUTATION_ROLES, mayCall } from '../../src/graphql/role-fields.js';
import { sortedSchema } from '../../src/graphql/schema.js';

const schema = sortedSchema();
const mutations = Object.keys(schema.getMutationType()!.getFields());
const queries = Object.keys(schema.getQueryType()!.getFields());

describe('the role table covers the schema', () => {
  it('given the schema, then every Mutation field has a role decision (a new mutation must be given one)', () => {
    expect(mutations.filter((field) => !Object.hasOwn(MUTATION_ROLES, field))).toEqual([]);
  });

  it('given the table, then every entry names a Mutation field (none is left behind by a removed one)', () => {
    expect(Object.keys(MUTATION_ROLES).filter((field) => !mutations.includes(field))).toEqual([]);
  });

  it('given the admin-only queries, then each is a Query field', () => {
    expect(ADMIN_ONLY_QUERIES.filter((field) => !queries.includes(field))).toEqual([]);
  });
});

describe('a field without a decision', () => {
  it('when a role other than admin calls it, then it is refused; admin may call it', () => {
    for (const role of ['editor', 'worker', 'viewer'] as const) {
      expect(mayCall(role, 'mutation', 'undecidedMutation')).toBe(false);
      expect(mayCall(role, 'mutation', 'constructor')).toBe(false); // not an entry, though every object has one
    }
    expect(mayCall('admin', 'mutation', 'undecidedMutation')).toBe(true);
  });
});
