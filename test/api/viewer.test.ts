/**
 * `viewer`: who the caller is, as the server authenticated it. Every role may
 * ask; the answer is the key's name and role and never the key or its hash;
 * an open server answers what it treats every request as; a server that
 * requires keys refuses a caller without one, as it refuses everything else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gqlClient, ok, startTestServer, type GqlResponse, type TestServer } from '../helpers/server.js';

const VIEWER = `{ viewer { name role } }`;

describe('viewer on a server that requires keys', () => {
  const ADMIN = 'a-very-long-bootstrap-admin-key-for-the-viewer-query';
  let t: TestServer;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    t = await startTestServer({ adminKey: ADMIN });
    for (const role of ['ADMIN', 'EDITOR', 'WORKER', 'VIEWER'] as const) {
      const made = ok(
        await t.gql(
          `mutation($n: String!, $r: ApiKeyRole!) { createApiKey(input: { name: $n, role: $r }) { key } }`,
          { n: `${role.toLowerCase()}-person`, r: role },
          {
            authorization: `Bearer ${ADMIN}`,
          },
        ),
      );
      keys[role] = made.createApiKey.key;
    }
  });
  afterAll(async () => {
    await t.stop();
  });

  for (const role of ['ADMIN', 'EDITOR', 'WORKER', 'VIEWER'] as const) {
    it(`given a ${role} key, then it answers the key's name and the ${role} role, and nothing of the key`, async () => {
      const response = await t.gql(`{ viewer { name role __typename } }`, undefined, {
        authorization: `Bearer ${keys[role]}`,
      });
      expect(ok(response).viewer).toEqual({ name: `${role.toLowerCase()}-person`, role, __typename: 'Viewer' });
      const text = JSON.stringify(response);
      expect(text).not.toContain(keys[role]!);
      expect(text).not.toMatch(/trialog_[0-9a-f]{16}/);
    });
  }

  it("given the environment's admin key, then it answers the actor the server records for it", async () => {
    expect(ok(await t.gql(VIEWER, undefined, { authorization: `Bearer ${ADMIN}` })).viewer).toEqual({
      name: 'admin',
      role: 'ADMIN',
    });
  });

  it('offers no field that could show a key, its id or its hash', async () => {
    const { __type } = ok(
      await t.gql(`{ __type(name: "Viewer") { fields { name } } }`, undefined, { authorization: `Bearer ${ADMIN}` }),
    );
    expect(__type.fields.map((f: { name: string }) => f.name).sort()).toEqual(['name', 'role']);
  });

  it('given no key, a wrong key or a revoked one, then UNAUTHENTICATED (401)', async () => {
    const made = ok(
      await t.gql(`mutation { createApiKey(input: { name: "gone", role: VIEWER }) { key apiKey { id } } }`, undefined, {
        authorization: `Bearer ${ADMIN}`,
      }),
    ).createApiKey;
    ok(
      await t.gql(
        `mutation($id: ID!) { revokeApiKey(input: { keyId: $id }) { id } }`,
        { id: made.apiKey.id },
        { authorization: `Bearer ${ADMIN}` },
      ),
    );
    const refusedHeaders: Record<string, string>[] = [
      {},
      { authorization: `Bearer trialog_0123456789abcdef_${'x'.repeat(43)}` },
      { authorization: `Bearer ${made.key}` },
    ];
    for (const headers of refusedHeaders) {
      const response = await fetch(t.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query: VIEWER }),
      });
      expect(response.status).toBe(401);
      const body = (await response.json()) as GqlResponse;
      expect(errorCode(body)).toBe('UNAUTHENTICATED');
      expect(body.data ?? null).toBeNull();
    }
  });
});

describe('viewer on a server that requires no key', () => {
  it('answers what every request is treated as: anonymous, with the ADMIN role', async () => {
    const open = await startTestServer();
    try {
      expect(ok(await gqlClient(open.url)(VIEWER)).viewer).toEqual({ name: 'anonymous', role: 'ADMIN' });
    } finally {
      await open.stop();
    }
  });
});
