/**
 * API keys: `apiKeys`, `createApiKey` (the only time a key is shown) and `revokeApiKey`, admin only;
 * and `viewer`, who the caller is, for every role.
 */
import type { Principal } from '../../app/access.js';
import type { ApiKeyRecord } from '../../domain/access/keys.js';
import { DomainError } from '../../domain/errors.js';
import { builder } from '../builder.js';

const ApiKeyRole = builder.enumType('ApiKeyRole', {
  values: {
    ADMIN: { value: 'admin', description: 'Everything, including keys, the algorithm registry and migrations.' },
    EDITOR: { value: 'editor', description: 'Experiments and jobs: create, cancel, retry; training jobs.' },
    WORKER: { value: 'worker', description: 'Claim, heartbeat, report metrics, append logs, complete and fail.' },
    VIEWER: { value: 'viewer', description: 'Read and subscribe.' },
  } as const,
});

const ApiKey = builder.objectRef<ApiKeyRecord>('ApiKey').implement({
  fields: (t) => ({
    id: t.exposeID('keyId'),
    name: t.exposeString('name', { description: 'The actor recorded on the events this key causes.' }),
    role: t.field({ type: ApiKeyRole, resolve: (k) => k.role }),
    createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt }),
  }),
});

const CreatedApiKey = builder.objectRef<{ key: string; record: ApiKeyRecord }>('CreatedApiKey').implement({
  fields: (t) => ({
    key: t.exposeString('key', {
      description: 'Send as `Authorization: Bearer <key>`. Shown only now: only its hash is kept.',
    }),
    apiKey: t.field({ type: ApiKey, resolve: (c) => c.record }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({ name: t.string({ required: true }), role: t.field({ type: ApiKeyRole, required: true }) }),
});

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  fields: (t) => ({ keyId: t.id({ required: true }) }),
});

/** The caller as the server authenticated it: its name and role, never its key (nor the key's id or hash). */
const Viewer = builder.objectRef<Principal>('Viewer').implement({
  description:
    "Who the caller is. With a key: its name and role. The environment's admin key is `admin` (ADMIN). A server that requires no key (no key configured or ever created; loopback only) treats every caller as `anonymous` with the ADMIN role.",
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The actor recorded on the events this caller causes.' }),
    role: t.field({ type: ApiKeyRole, resolve: (p) => p.role }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    description: 'Who the caller is, for any role: what a client shows and which actions it offers.',
    resolve: (_root, _args, { principal }) => {
      // The access plugin refuses an unauthenticated caller before any resolver runs; this is for the type.
      if (principal instanceof DomainError) throw principal;
      return principal;
    },
  }),
);

builder.queryField('apiKeys', (t) =>
  t.field({ type: [ApiKey], resolve: (_root, _args, { trialog }) => trialog.access.list() }),
);

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.trialog.access.createApiKey(input, ctx.command),
  }),
  revokeApiKey: t.field({
    type: ApiKey,
    description: "Takes effect on the next request, and ends the key's open subscriptions (SSE and WebSocket).",
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.trialog.access.revokeApiKey(input, ctx.command),
  }),
}));
