/** API keys as a read model: what authentication looks up on every request. */
import { parseOnce } from './parse-once.js';
import type { Database } from 'better-sqlite3';
import { evolveKeys, keysKind, type ApiKeyRecord } from '../src/domain/access/keys.js';
import type { RecordedEvent } from '../src/store/port.js';
import type { Projection } from './projection.js';

export function accessProjection(db: Database): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, revoked_at TEXT) WITHOUT ROWID`);
  const select = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_id = ?');
  const upsert = db.prepare(
    `INSERT INTO api_keys (key_id, name, role, secret_hash, created_at, revoked_at)
     VALUES (@keyId, @name, @role, @secretHash, @createdAt, @revokedAt)
     ON CONFLICT (key_id) DO UPDATE SET revoked_at = excluded.revoked_at`,
  );
  return {
    name: 'access',
    tables: ['api_keys'],
    apply(recorded: RecordedEvent) {
      if (!keysKind.ownsStream(recorded.streamId)) return;
      const event = parseOnce(recorded, keysKind.parse);
      const before = select.get(event.data.keyId);
      const ring = evolveKeys(before ? { [before.key_id]: fromRow(before) } : {}, event);
      const record = ring[event.data.keyId];
      if (record) upsert.run(record);
    },
  };
}

export interface ApiKeyRow {
  key_id: string;
  name: string;
  role: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export function fromRow(row: ApiKeyRow): ApiKeyRecord {
  return {
    keyId: row.key_id,
    name: row.name,
    role: row.role as ApiKeyRecord['role'],
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}
