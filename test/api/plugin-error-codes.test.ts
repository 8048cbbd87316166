/**
 * The contract-error-codes plugin, in process through `yoga.fetch`: every
 * error carries a code of the contract. graphql-js's and yoga's own codes
 * (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, bad bodies) become
 * BAD_USER_INPUT; a document over one of graphql-armor's limits is TOO_LARGE;
 * a resolver's coded error passes through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { codeOf, inProcessYoga, type InProcessYoga } from '../helpers/in-process-yoga.js';

let app: InProcessYoga;
beforeAll(async () => {
  app = await inProcessYoga({ graphql: { maxDepth: 4, maxAliases: 3 } });
});
afterAll(async () => {
  await app?.close();
});

describe('errors graphql-js and yoga label themselves', () => {
  it('given a document that does not parse, then BAD_USER_INPUT, not GRAPHQL_PARSE_FAILED', async () => {
    expect(codeOf(await app.post(`{ jobs {`))).toBe('BAD_USER_INPUT');
  });

  it('given a field the schema does not have, then BAD_USER_INPUT, not GRAPHQL_VALIDATION_FAILED', async () => {
    expect(codeOf(await app.post(`{ noSuchField }`))).toBe('BAD_USER_INPUT');
  });

  it('given a variable of the wrong type, then BAD_USER_INPUT', async () => {
    expect(codeOf(await app.post(`query($id: ID!) { job(id: $id) { id } }`, { id: { not: 'an id' } }))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('given a body that is not JSON, then BAD_USER_INPUT', async () => {
    const response = await app.fetch({
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: '{"query": ',
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(response.status).toBe(400);
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe("documents over graphql-armor's limits", () => {
  it('given a document deeper than maxDepth, then TOO_LARGE', async () => {
    expect(codeOf(await app.post(`{ jobs { edges { node { metrics { points { step } } } } } }`))).toBe('TOO_LARGE');
  });

  it('given more aliases than maxAliases, then TOO_LARGE', async () => {
    expect(
      codeOf(
        await app.post(
          `{ a: jobs { totalCount } b: jobs { totalCount } c: jobs { totalCount } d: jobs { totalCount } }`,
        ),
      ),
    ).toBe('TOO_LARGE');
  });
});

describe("a resolver's own errors", () => {
  it('given a job that does not exist, when it is cancelled, then the domain code NOT_FOUND passes through', async () => {
    expect(codeOf(await app.post(`mutation { cancelJob(input: { jobId: "job_missing" }) { id } }`))).toBe('NOT_FOUND');
  });

  it('given any of the refusals above, then the code is one of the contract', async () => {
    for (const query of [`{`, `{ nope }`, `mutation { cancelJob(input: { jobId: "job_missing" }) { id } }`]) {
      expect(ERROR_CODES).toContain(codeOf(await app.post(query)));
    }
  });
});
