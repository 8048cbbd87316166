/**
 * API keys, event-sourced in one stream. A key is shown once, at creation;
 * only its hash is recorded. Roles:
 * - admin: everything, including keys, the algorithm registry and migrations;
 * - editor: experiments and jobs (create, cancel, retry), training jobs;
 * - worker: claim, heartbeat, report metrics, append logs, complete and fail
 *   (each only for the job its lease holds);
 * - viewer: read and subscribe.
 * Which API fields each role may call is the GraphQL layer's table: src/graphql/role-fields.ts.
 */
import { z } from 'zod';
import { badInput, conflict, notFound } from '../errors.js';
import { defineKind } from '../aggregate-kind.js';
import type { EventsOf, NewEventsOf } from '../event-schemas.js';

export const Role = z.enum(['admin', 'editor', 'worker', 'viewer']);
export type Role = z.infer<typeof Role>;

export const accessEventSchemas = {
  ApiKeyCreated: z.object({ keyId: z.string(), name: z.string(), role: Role, secretHash: z.string() }),
  ApiKeyRevoked: z.object({ keyId: z.string() }),
} as const;

export type AccessEvent = EventsOf<typeof accessEventSchemas>;
export type NewAccessEvent = NewEventsOf<typeof accessEventSchemas>;

export interface ApiKeyRecord {
  keyId: string;
  name: string;
  role: Role;
  secretHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export type KeyRing = Record<string, ApiKeyRecord>;

/**
 * The actors the server itself records: `anonymous` (open mode), `admin` (the
 * environment's admin key) and `system` (what the server does on its own). No
 * key may be named like them, in any case, or the audit log could not tell them apart.
 */
export const SERVER_ACTORS = { open: 'anonymous', environmentAdmin: 'admin', server: 'system' } as const;
const RESERVED_NAMES = new Set<string>(Object.values(SERVER_ACTORS));

/** Names compare without regard to case (and Unicode normalisation): `Alice` and `alice` are one actor to a reader. */
const sameName = (name: string) => name.normalize('NFC').toLowerCase();

export function evolveKeys(state: KeyRing | undefined, event: AccessEvent): KeyRing {
  const ring = { ...(state ?? {}) };
  if (event.type === 'ApiKeyCreated') {
    ring[event.data.keyId] = { ...event.data, createdAt: event.timestamp, revokedAt: null };
  } else if (ring[event.data.keyId]) {
    ring[event.data.keyId] = { ...ring[event.data.keyId]!, revokedAt: event.timestamp };
  }
  return ring;
}

/**
 * Why a recorded event could not have been decided on the key ring before it
 * (for `trialog verify`), or undefined when it could. Names are not checked:
 * logs from before names were made unique may reuse a revoked key's name.
 */
export function illegalKeyEvent(state: KeyRing | undefined, event: AccessEvent): string | undefined {
  const key = state?.[event.data.keyId];
  if (event.type === 'ApiKeyCreated') return key ? `key ${event.data.keyId} created twice` : undefined;
  if (!key) return `key ${event.data.keyId} revoked before it was created`;
  return key.revokedAt !== null ? `key ${event.data.keyId} revoked twice` : undefined;
}

/** The key ring as an aggregate kind: one stream, `access-keys`, checked by `trialog verify` with `illegalKeyEvent`. */
export const keysKind = defineKind<typeof accessEventSchemas, KeyRing>({
  name: 'keys',
  article: 'an access',
  category: 'access',
  onlyId: 'keys',
  schemas: accessEventSchemas,
  initialState: undefined,
  evolve: evolveKeys,
  illegalEvent: illegalKeyEvent,
});

export type AccessCommand =
  | { type: 'CreateApiKey'; keyId: string; name: string; role: Role; secretHash: string }
  | { type: 'RevokeApiKey'; keyId: string };

export function decideKeys(state: KeyRing | undefined, command: AccessCommand): NewAccessEvent[] {
  const ring = state ?? {};
  if (command.type === 'CreateApiKey') {
    // A key's name is the actor of every event it causes: it must name that key alone, in the whole log. So the
    // server's own actor names are refused, and a name is never used twice, not even after its key was revoked.
    if (RESERVED_NAMES.has(sameName(command.name))) {
      throw badInput(`${JSON.stringify(command.name)} is a name the server records as an actor itself; choose another`);
    }
    const taken = Object.values(ring).find((k) => sameName(k.name) === sameName(command.name));
    if (taken) {
      const revoked =
        taken.revokedAt === null ? '' : ' (revoked: names are never reused, so that actors stay unambiguous)';
      throw conflict(`a key named ${JSON.stringify(taken.name)} exists already${revoked}`);
    }
    const { type: _type, ...data } = command;
    return [{ type: 'ApiKeyCreated', data }];
  }
  const key = ring[command.keyId];
  if (!key) throw notFound(`key ${command.keyId} not found`);
  if (key.revokedAt !== null) throw conflict(`key ${command.keyId} is revoked already`);
  return [{ type: 'ApiKeyRevoked', data: { keyId: command.keyId } }];
}
