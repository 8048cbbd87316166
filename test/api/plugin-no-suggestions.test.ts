/**
 * The no-suggestions plugin, in process through `yoga.fetch`: with
 * introspection off, no error says "Did you mean ...?", in validation or in
 * coercing variables; with it on, graphql-js's suggestions are left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, inProcessYoga, type InProcessYoga } from '../helpers/in-process-yoga.js';

let closed: InProcessYoga;
let open: InProcessYoga;
beforeAll(async () => {
  closed = await inProcessYoga({ graphql: { introspection: false } });
  open = await inProcessYoga({ graphql: { introspection: true } });
});
afterAll(async () => {
  await closed?.close();
  await open?.close();
});

const misspelt = [
  ['a field', `{ jobz { totalCount } }`, undefined],
  ['an argument', `{ jobs(firstt: 1) { totalCount } }`, undefined],
  [
    'an input field in a variable',
    `mutation($i: CreateJobInput!) { createJob(input: $i) { id } }`,
    { i: { labelz: [] } },
  ],
  [
    'an enum value in a variable',
    `query($s: [JobStatus!]) { jobs(filter: { status: $s }) { totalCount } }`,
    { s: ['QUEUEDD'] },
  ],
] as const;

describe('with introspection off', () => {
  for (const [what, query, variables] of misspelt) {
    it(`given ${what} misspelt, then BAD_USER_INPUT with no suggestion`, async () => {
      const answer = await closed.post(query, variables);
      expect(codeOf(answer)).toBe('BAD_USER_INPUT');
      expect(answer.body.errors![0]!.message).not.toMatch(/Did you mean/);
    });
  }

  it('given an introspection query, then it is refused', async () => {
    expect(codeOf(await closed.post(`{ __schema { types { name } } }`))).toBe('BAD_USER_INPUT');
  });
});

describe('with introspection on', () => {
  for (const [what, query, variables] of misspelt) {
    it(`given ${what} misspelt, then graphql-js's suggestion stays: the schema is public anyway`, async () => {
      expect((await open.post(query, variables)).body.errors![0]!.message).toMatch(/Did you mean/);
    });
  }
});
