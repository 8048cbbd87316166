/**
 * The API keys' decider as specifications: given the key ring's past events,
 * when a key is created or revoked, then these events, or this error; and the
 * check `trialog verify` applies to a recorded key log.
 */
import { describe, expect, it } from 'vitest';
import {
  decideKeys,
  evolveKeys,
  illegalKeyEvent,
  type AccessCommand,
  type KeyRing,
  type NewAccessEvent,
  type Role,
} from '../../src/domain/access/keys.js';
import { at, deciderSpec, stateAfter } from '../helpers/decider-spec.js';

const decider = { decide: decideKeys, evolve: evolveKeys, initialState: undefined as KeyRing | undefined };
const { given } = deciderSpec(decider);

const created = (keyId: string, name: string, role: Role = 'worker'): NewAccessEvent => ({
  type: 'ApiKeyCreated',
  data: { keyId, name, role, secretHash: `hash-${keyId}` },
});
const revoked = (keyId: string): NewAccessEvent => ({ type: 'ApiKeyRevoked', data: { keyId } });
const create = (keyId: string, name: string, role: Role = 'worker'): AccessCommand => ({
  type: 'CreateApiKey',
  keyId,
  name,
  role,
  secretHash: `hash-${keyId}`,
});
const revoke = (keyId: string): AccessCommand => ({ type: 'RevokeApiKey', keyId });

describe('creating a key', () => {
  it('given no keys, when a key is created, then ApiKeyCreated with its role and only the hash of its secret', () => {
    given([])
      .when(create('k1', 'trainer-1', 'editor'))
      .then([created('k1', 'trainer-1', 'editor')]);
  });

  it('given a key named alice, when another is named Alice, then CONFLICT: names compare without regard to case', () => {
    given([created('k1', 'alice')])
      .when(create('k2', 'Alice'))
      .thenError('CONFLICT', /a key named "alice" exists already/);
  });

  it('given a revoked key named alice, when another is named alice, then CONFLICT: names are never reused', () => {
    given([created('k1', 'alice'), revoked('k1')])
      .when(create('k2', 'alice'))
      .thenError('CONFLICT', /revoked: names are never reused/);
  });

  it('given a key whose name is composed (é as one code point), when another spells it decomposed, then CONFLICT', () => {
    given([created('k1', 'ren\u00e9')])
      .when(create('k2', 're\u006e\u0065\u0301'))
      .thenError('CONFLICT');
  });

  for (const name of ['anonymous', 'admin', 'system', 'SYSTEM', 'Admin']) {
    it(`given no keys, when a key is named ${name}, then BAD_USER_INPUT: the server records that actor itself`, () => {
      given([])
        .when(create('k1', name))
        .thenError('BAD_USER_INPUT', /a name the server records as an actor itself/);
    });
  }
});

describe('revoking a key', () => {
  it('given a key, when it is revoked, then ApiKeyRevoked', () => {
    given([created('k1', 'alice')])
      .when(revoke('k1'))
      .then([revoked('k1')]);
  });

  it('given a revoked key, when it is revoked again, then CONFLICT', () => {
    given([created('k1', 'alice'), revoked('k1')])
      .when(revoke('k1'))
      .thenError('CONFLICT', /revoked already/);
  });

  it('given no such key, when it is revoked, then NOT_FOUND', () => {
    given([created('k1', 'alice')])
      .when(revoke('k2'))
      .thenError('NOT_FOUND', /key k2 not found/);
  });
});

describe('the key ring, folded from its events', () => {
  it('given a created key, then it is recorded with its creation time and not revoked', () => {
    expect(stateAfter(decider, [created('k1', 'alice', 'viewer')])).toEqual({
      k1: {
        keyId: 'k1',
        name: 'alice',
        role: 'viewer',
        secretHash: 'hash-k1',
        createdAt: at(0).toISOString(),
        revokedAt: null,
      },
    });
  });

  it('given a revoked key, then it stays on the ring with the time it was revoked', () => {
    expect(stateAfter(decider, [created('k1', 'alice'), revoked('k1')])?.k1?.revokedAt).toBe(at(1).toISOString());
  });
});

describe('trialog verify: could each recorded key event have been decided?', () => {
  const check = (history: NewAccessEvent[], next: NewAccessEvent) =>
    illegalKeyEvent(stateAfter(decider, history), {
      ...next,
      timestamp: at(history.length).toISOString(),
    });

  it('given a key ring, when a new key is created, then it could have been', () => {
    expect(check([created('k1', 'alice')], created('k2', 'bob'))).toBeUndefined();
  });

  it('given a key, when it is created again, then it could not: created twice', () => {
    expect(check([created('k1', 'alice')], created('k1', 'alice'))).toBe('key k1 created twice');
  });

  it('given no such key, when it is revoked, then it could not: revoked before it was created', () => {
    expect(check([], revoked('k1'))).toBe('key k1 revoked before it was created');
  });

  it('given a revoked key, when it is revoked again, then it could not: revoked twice', () => {
    expect(check([created('k1', 'alice'), revoked('k1')], revoked('k1'))).toBe('key k1 revoked twice');
  });

  it("given a revoked key's name, when a new key reuses it, then the log still verifies (older logs did so)", () => {
    expect(check([created('k1', 'alice'), revoked('k1')], created('k2', 'alice'))).toBeUndefined();
  });
});
