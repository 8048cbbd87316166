/**
 * `trialog verify` on a log holding API keys: every server bound beyond
 * loopback writes one (its admin.key), so a healthy such log must verify, and
 * the keys' events are checked as other streams' are (valid data, each event
 * legal on the keys before it).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trialogCli } from '../helpers/process.js';
import { gqlClient, ok, startTestServer, tempDir } from '../helpers/server.js';
import { SqliteEventStore } from '../../src/store/sqlite-store.js';

const ADMIN = 'an-environment-admin-key-for-verify-0123456789';
const dir = tempDir();
afterAll(() => dir.remove());

describe('trialog verify on a log with API keys', () => {
  it(
    'given keys created and revoked beside a job, when the log is verified, then it passes with 0 problems',
    { timeout: 60_000 },
    async () => {
      const dbPath = join(dir.path, 'keys.db');
      const t = await startTestServer({ dbPath, adminKey: ADMIN });
      try {
        const admin = (q: string, v?: Record<string, unknown>) =>
          gqlClient(t.url)(q, v, { authorization: `Bearer ${ADMIN}` });
        ok(await admin(`mutation { createApiKey(input: { name: "kept", role: VIEWER }) { key } }`));
        const doomed = ok(
          await admin(`mutation { createApiKey(input: { name: "doomed", role: WORKER }) { apiKey { id } } }`),
        ).createApiKey;
        ok(await admin(`mutation($id: ID!) { revokeApiKey(input: { keyId: $id }) { id } }`, { id: doomed.apiKey.id }));
        ok(await admin(`mutation { createJob(input: { labels: ["verified"] }) { id } }`));
      } finally {
        await t.stop();
      }
      const verified = await trialogCli(['verify'], dbPath);
      expect(verified.stdout + verified.stderr).not.toMatch(/no known kind/);
      expect(verified.stdout).toMatch(/4 events in 2 streams .*; 0 problems/);
      expect(verified.code).toBe(0);
    },
  );

  it(
    'given key events that could not have been decided, when the log is verified, then each is named and it exits 1',
    { timeout: 60_000 },
    async () => {
      const dbPath = join(dir.path, 'broken-keys.db');
      const store = new SqliteEventStore(dbPath);
      const meta = { actor: 'test', correlationId: 'c', causationId: 'c', schemaVersion: 1 };
      const key = (keyId: string, name: string) => ({ keyId, name, role: 'viewer', secretHash: 'h' });
      await store.appendToStream('access-keys', [
        { id: 'k1', type: 'ApiKeyCreated', data: key('0000000000000001', 'one'), metadata: meta },
        { id: 'k2', type: 'ApiKeyRevoked', data: { keyId: '0000000000000001' }, metadata: meta },
        { id: 'k3', type: 'ApiKeyRevoked', data: { keyId: '0000000000000001' }, metadata: meta },
        { id: 'k4', type: 'ApiKeyRevoked', data: { keyId: '0000000000000002' }, metadata: meta },
        { id: 'k5', type: 'ApiKeyCreated', data: key('0000000000000001', 'again'), metadata: meta },
        { id: 'k6', type: 'ApiKeyCreated', data: { ...key('0000000000000003', 'root'), role: 'root' }, metadata: meta },
      ]);
      await store.close();
      const result = await trialogCli(['verify'], dbPath);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/4 problems/);
      expect(result.stdout).toMatch(/access-keys@2: key 0000000000000001 revoked twice/);
      expect(result.stdout).toMatch(/access-keys@3: key 0000000000000002 revoked before it was created/);
      expect(result.stdout).toMatch(/access-keys@4: key 0000000000000001 created twice/);
      expect(result.stdout).toMatch(/access-keys@5 ApiKeyCreated/);
    },
  );
});
