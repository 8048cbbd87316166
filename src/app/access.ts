/**
 * Who is calling. Keys are `trialog_<keyId>_<secret>` (a 256-bit secret);
 * the store keeps only the secret's hash, and a key is compared by its id and
 * then the hash, in constant time. With no key configured anywhere the server
 * runs open (everyone is admin) — allowed only on loopback; `TRIALOG_ADMIN_KEY`
 * or any created key turns authentication on.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { DomainError } from '../domain/errors.js';
import {
  Role,
  decideKeys,
  keysKind,
  type AccessCommand,
  type AccessEvent,
  type ApiKeyRecord,
  type KeyRing,
  type NewAccessEvent,
  SERVER_ACTORS,
} from '../domain/access/keys.js';
import { fromRow, type ApiKeyRow } from '../../projections/access-projection.js';
import type { EventStore } from '../store/port.js';
import type { CommandContext } from './command-context.js';
import { Repository } from './repository.js';
import { parseInput } from './validation.js';

export interface Principal {
  keyId: string | null;
  /** The actor recorded on the events this caller causes. */
  name: string;
  role: Role;
}

const OPEN: Principal = { keyId: null, name: SERVER_ACTORS.open, role: 'admin' };
const hash = (secret: string) => createHash('sha256').update(secret).digest('hex');

const CreateApiKeyInput = z.object({ name: z.string().trim().min(1).max(128), role: Role });
const RevokeApiKeyInput = z.object({ keyId: z.string().min(1).max(64) });

export class AccessControl {
  private readonly keys: Repository<KeyRing, AccessEvent, NewAccessEvent>;
  private readonly byId;
  private readonly anyKey;
  private readonly all;

  constructor(
    store: EventStore,
    db: Database,
    private readonly waitForReadModels: (position: string) => Promise<void>,
    private readonly adminKey: string | undefined,
  ) {
    this.keys = new Repository(store, keysKind);
    this.byId = db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_id = ?');
    this.anyKey = db.prepare<[], { one: number }>('SELECT 1 AS one FROM api_keys LIMIT 1');
    this.all = db.prepare<[], ApiKeyRow>('SELECT * FROM api_keys ORDER BY created_at, key_id');
  }

  /** Open: no admin key configured and no key ever created. (Once closed, never open again: no lookup per request.) */
  get isOpen(): boolean {
    if (this.closed) return false;
    this.closed = this.adminKey !== undefined || this.anyKey.get() !== undefined;
    return !this.closed;
  }

  private closed = false;

  /** The caller of a request, from its `Authorization: Bearer <key>` (or a WebSocket's connectionParams). */
  authenticate(authorization: string | null | undefined): Principal | DomainError {
    const given = authorization?.replace(/^Bearer\s+/i, '').trim();
    if (!given)
      return this.isOpen
        ? OPEN
        : new DomainError('UNAUTHENTICATED', 'an API key is required (Authorization: Bearer <key>)');
    if (this.adminKey !== undefined && sameSecret(given, this.adminKey))
      return { keyId: null, name: SERVER_ACTORS.environmentAdmin, role: 'admin' };
    const match = /^trialog_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(given);
    const row = match ? this.byId.get(match[1]!) : undefined;
    if (!match || !row || !sameSecret(hash(match[2]!), row.secret_hash))
      return new DomainError('UNAUTHENTICATED', 'unknown API key');
    if (row.revoked_at !== null) return new DomainError('UNAUTHENTICATED', 'this API key was revoked');
    return { keyId: row.key_id, name: row.name, role: row.role as Role };
  }

  /** A new key: the only time its secret is shown. */
  async createApiKey(rawInput: unknown, context: CommandContext): Promise<{ key: string; record: ApiKeyRecord }> {
    const input = parseInput(CreateApiKeyInput, rawInput);
    const keyId = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    await this.execute(
      { type: 'CreateApiKey', keyId, name: input.name, role: input.role, secretHash: hash(secret) },
      context,
    );
    return { key: `trialog_${keyId}_${secret}`, record: this.record(keyId)! };
  }

  async revokeApiKey(rawInput: unknown, context: CommandContext): Promise<ApiKeyRecord> {
    const { keyId } = parseInput(RevokeApiKeyInput, rawInput);
    await this.execute({ type: 'RevokeApiKey', keyId }, context);
    return this.record(keyId)!;
  }

  list(): ApiKeyRecord[] {
    return this.all.all().map(fromRow);
  }

  private record(keyId: string): ApiKeyRecord | undefined {
    const row = this.byId.get(keyId);
    return row && fromRow(row);
  }

  private async execute(command: AccessCommand, context: CommandContext): Promise<void> {
    const { position } = await this.keys.change(keysKind.onlyId!, (state) => decideKeys(state, command), context);
    if (position) await this.waitForReadModels(position);
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
