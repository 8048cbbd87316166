/**
 * Secrets at start, with the server run as its own process (`src/main.ts`, as
 * `npm start` runs it): an admin key that could never be used is refused; the
 * `admin.key` a server bound beyond loopback writes is a new private file, and
 * an existing one (a file others can read, a link) is never written through;
 * and a connection string's password is never printed.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { trialogArgs } from '../helpers/commands.js';
import { runMain, startServerProcess } from '../helpers/process.js';
import { errorCode, gqlClient, ok, tempDir } from '../helpers/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function scratch(): string {
  const dir = tempDir('trialog-start-');
  cleanups.push(dir.remove);
  return dir.path;
}

/** A start that must be refused: its exit code and everything it printed. */
async function refusedStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const { output, exit, child } = runMain(env);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await exit;
  clearTimeout(timer);
  return { code, output: output() };
}

describe('TRIALOG_ADMIN_KEY that could never be used', () => {
  const unusable: [string, string][] = [
    ['40 spaces', ' '.repeat(40)],
    ['40 tabs and newlines', '\t\n'.repeat(20)],
    ['a key with a space inside', `${'k'.repeat(20)} ${'k'.repeat(20)}`],
    ['a key with leading spaces', `   ${'k'.repeat(40)}`],
    ['a key of non-ASCII characters', 'é'.repeat(40)],
  ];
  for (const [name, key] of unusable) {
    it(
      `given ${name}, when the server starts, then it exits 2 naming the variable, without echoing it`,
      { timeout: 90_000 },
      async () => {
        const { code, output } = await refusedStart({
          TRIALOG_DB: join(scratch(), 'trialog.db'),
          TRIALOG_ADMIN_KEY: key,
        });
        expect(code, output).toBe(2);
        expect(output).toMatch(/^trialog: invalid configuration: TRIALOG_ADMIN_KEY .*(ASCII|characters)/m);
        expect(output).not.toContain(key.trim() || key);
        expect(output).not.toMatch(/serving http:/);
      },
    );
  }
});

describe('admin.key beside the database, for a server bound beyond loopback with no key', () => {
  it(
    'given no admin.key, when the server starts on 0.0.0.0, then it writes a new 0600 file whose key is the only way in',
    { timeout: 90_000 },
    async () => {
      const dir = scratch();
      const server = await startServerProcess(join(dir, 'trialog.db'), { HOST: '0.0.0.0' });
      try {
        const file = join(dir, 'admin.key');
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const key = readFileSync(file, 'utf8').trim();
        const gql = gqlClient(server.url);
        expect(errorCode(await gql(`{ apiKeys { name } }`))).toBe('UNAUTHENTICATED');
        expect(ok(await gql(`{ apiKeys { name } }`, undefined, { authorization: `Bearer ${key}` })).apiKeys).toEqual([
          { name: 'bootstrap-admin' },
        ]);
      } finally {
        await server.kill('SIGTERM');
      }
    },
  );

  it(
    'given an admin.key others can read, when the server starts on 0.0.0.0, then it refuses to start and the file is untouched',
    { timeout: 90_000 },
    async () => {
      const dir = scratch();
      const file = join(dir, 'admin.key');
      writeFileSync(file, 'left over\n');
      chmodSync(file, 0o644);
      const { code, output } = await refusedStart({ TRIALOG_DB: join(dir, 'trialog.db'), HOST: '0.0.0.0' });
      expect(code, output).toBe(2);
      expect(output).toMatch(/admin\.key exists already.*Remove it, or set TRIALOG_ADMIN_KEY/);
      expect(readFileSync(file, 'utf8')).toBe('left over\n');
      expect(statSync(file).mode & 0o777).toBe(0o644);
      expect(output).not.toMatch(/trialog_[0-9a-f]{16}_/);
    },
  );

  it(
    'given admin.key is a symbolic link to another file, when the server starts on 0.0.0.0, then it refuses and the target is untouched',
    { timeout: 90_000 },
    async () => {
      const dir = scratch();
      const target = join(dir, 'someone-elses-file');
      writeFileSync(target, 'precious\n');
      symlinkSync(target, join(dir, 'admin.key'));
      const { code, output } = await refusedStart({ TRIALOG_DB: join(dir, 'trialog.db'), HOST: '0.0.0.0' });
      expect(code, output).toBe(2);
      expect(readFileSync(target, 'utf8')).toBe('precious\n');
    },
  );

  it(
    'given admin.key is a dangling symbolic link, when the server starts on 0.0.0.0, then it refuses and creates nothing at its target',
    { timeout: 90_000 },
    async () => {
      const dir = scratch();
      const target = join(dir, 'would-be-created');
      symlinkSync(target, join(dir, 'admin.key'));
      const { code, output } = await refusedStart({ TRIALOG_DB: join(dir, 'trialog.db'), HOST: '0.0.0.0' });
      expect(code, output).toBe(2);
      expect(existsSync(target)).toBe(false);
      expect(lstatSync(join(dir, 'admin.key')).isSymbolicLink()).toBe(true);
    },
  );

  it(
    'given a refused start, when admin.key is removed and the server started again, then it serves with a new key (no key was left behind)',
    { timeout: 90_000 },
    async () => {
      const dir = scratch();
      const file = join(dir, 'admin.key');
      writeFileSync(file, 'left over\n');
      expect((await refusedStart({ TRIALOG_DB: join(dir, 'trialog.db'), HOST: '0.0.0.0' })).code).toBe(2);
      const { rmSync } = await import('node:fs');
      rmSync(file);
      const server = await startServerProcess(join(dir, 'trialog.db'), { HOST: '0.0.0.0' });
      try {
        const key = readFileSync(file, 'utf8').trim();
        expect(
          ok(await gqlClient(server.url)(`{ apiKeys { name } }`, undefined, { authorization: `Bearer ${key}` }))
            .apiKeys,
        ).toHaveLength(1);
      } finally {
        await server.kill('SIGTERM');
      }
    },
  );
});

describe('EVENTSTORE_URL with a password', () => {
  const password = 'hunter2-not-for-logs';
  const urls: [string, string][] = [
    ['not an esdb:// string', `http://admin:${password}@eventstore:2113`],
    ['an esdb:// string the client cannot parse', `esdb://admin:${password}@localhost:2113?tls=maybe`],
  ];
  for (const [name, url] of urls) {
    it(
      `given ${name}, when the server starts, then it exits 2 and prints the string with its password redacted`,
      { timeout: 90_000 },
      async () => {
        const { code, output } = await refusedStart({ TRIALOG_DB: join(scratch(), 'trialog.db'), EVENTSTORE_URL: url });
        expect(code, output).toBe(2);
        expect(output).toMatch(/EVENTSTORE_URL/);
        expect(output).toContain('admin:***@');
        expect(output).not.toContain(password);
      },
    );

    it(
      `given ${name}, when \`trialog verify\` runs, then it exits 2 and prints the string with its password redacted`,
      { timeout: 90_000 },
      async () => {
        const child = spawn(process.execPath, trialogArgs('verify'), {
          cwd: root,
          env: { ...process.env, TRIALOG_DB: join(scratch(), 'trialog.db'), EVENTSTORE_URL: url },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (c: Buffer) => (output += c.toString()));
        child.stderr.on('data', (c: Buffer) => (output += c.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        expect(code, output).toBe(2);
        expect(output).toContain('admin:***@');
        expect(output).not.toContain(password);
      },
    );
  }
});
