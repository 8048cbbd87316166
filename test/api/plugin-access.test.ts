/**
 * The access-control plugin, in process through `yoga.fetch`: before anything
 * runs, a caller without a valid key is UNAUTHENTICATED (401) and a caller
 * whose role may not call a root field is FORBIDDEN; nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, inProcessYoga, type InProcessYoga } from '../helpers/in-process-yoga.js';

const ADMIN = 'an-admin-key-for-plugin-specs-0123456789';
const CREATE_JOB = `mutation { createJob(input: {}) { id } }`;
let app: InProcessYoga;
const keys: Record<string, string> = {};
const as = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  app = await inProcessYoga({ adminKey: ADMIN });
  for (const role of ['EDITOR', 'WORKER', 'VIEWER']) {
    const made = await app.post(
      `mutation($n: String!, $r: ApiKeyRole!) { createApiKey(input: { name: $n, role: $r }) { key } }`,
      { n: `plugin-${role.toLowerCase()}`, r: role },
      as(ADMIN),
    );
    keys[role] = made.body.data.createApiKey.key;
  }
});
afterAll(async () => {
  await app?.close();
});

describe('a caller without a valid key', () => {
  for (const [what, headers] of [
    ['no key', {}],
    ['an unknown key', as('trialog_nokey_0000000000000000000000000000000000000000000')],
  ] as const) {
    it(`given ${what}, when it queries, then 401 UNAUTHENTICATED asking for a Bearer key`, async () => {
      const answer = await app.post(`{ jobs { totalCount } }`, undefined, headers);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer');
      expect(codeOf(answer)).toBe('UNAUTHENTICATED');
      expect(answer.body.data ?? null).toBeNull();
    });
  }
});

describe('a caller whose role may not call a field', () => {
  it('given a viewer, when it creates a job, then FORBIDDEN naming the role and field, and nothing is written', async () => {
    const head = await app.trialog.store.headPosition();
    const answer = await app.post(CREATE_JOB, undefined, as(keys.VIEWER!));
    expect(codeOf(answer)).toBe('FORBIDDEN');
    expect(answer.body.errors![0]!.message).toBe('the viewer role may not call createJob');
    expect(await app.trialog.store.headPosition()).toBe(head);
  });

  it('given a worker, when it hides createJob in a fragment, then FORBIDDEN all the same', async () => {
    const answer = await app.post(
      `mutation { ...Make } fragment Make on Mutation { ... on Mutation { createJob(input: {}) { id } } }`,
      undefined,
      as(keys.WORKER!),
    );
    expect(codeOf(answer)).toBe('FORBIDDEN');
    expect(answer.body.errors![0]!.message).toBe('the worker role may not call createJob');
  });

  it('given an editor, when it lists API keys, then FORBIDDEN: only admins read keys', async () => {
    expect(codeOf(await app.post(`{ apiKeys { id } }`, undefined, as(keys.EDITOR!)))).toBe('FORBIDDEN');
  });
});

describe('a caller whose role allows the call', () => {
  it('given a viewer, when it queries, then it is answered', async () => {
    const answer = await app.post(`{ jobs { totalCount } }`, undefined, as(keys.VIEWER!));
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.jobs.totalCount).toBeGreaterThanOrEqual(0);
  });

  it('given an editor, when it creates a job, then the job is created', async () => {
    const answer = await app.post(CREATE_JOB, undefined, as(keys.EDITOR!));
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.createJob.id).toMatch(/^job_/);
  });
});
