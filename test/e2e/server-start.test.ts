/**
 * How a server start ends: serving, or exiting non-zero saying why (never status
 * 0 and silence, which a supervisor restarting on failure takes for a clean
 * stop). Among others while another process writes to the same SQLite file, so
 * that the start catches up with a log that keeps growing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runMain } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

// Before the fix about a third of such starts ended with status 0 and no output: 12 starts miss it
// with a chance of about 0.67^12 (under 1%); test/e2e/store.sqlite.test.ts holds the cause deterministically.
// Four at a time: a start is mostly loading modules (about 3 s of one core here).
const STARTS = 12;
const AT_ONCE = 4;
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Starts the busy writer and resolves once its first appends are durable. */
async function startBusyWriter(dbPath: string): Promise<void> {
  const script = fileURLToPath(new URL('../fixtures/processes/busy-writer.ts', import.meta.url));
  const writer = spawn(process.execPath, ['--import', 'tsx', script, dbPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.unshift(() => writer.kill('SIGKILL'));
  let output = '';
  writer.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    writer.stdout.once('data', () => resolve());
    writer.once('exit', (code) => reject(new Error(`the busy writer exited with ${code}:\n${output}`)));
  });
}

type Outcome = { served: true } | { served: false; code: number | null; output: string };

/** Starts a server on the file and stops it again: did it serve, or how did it end? */
async function startOnce(dbPath: string): Promise<Outcome> {
  const { child, output, exit } = runMain({ TRIALOG_DB: dbPath });
  const served = await new Promise<boolean>((resolve) => {
    const onData = () => {
      if (/serving http:/.test(output())) resolve(true);
    };
    child.stdout!.on('data', onData);
    void exit.then(() => resolve(/serving http:/.test(output())));
  });
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const code = await exit;
  return served ? { served: true } : { served: false, code, output: output() };
}

describe('a server started beside a busy writer on the same SQLite file', () => {
  it(
    `given another process appending without pause, when a server is started ${STARTS} times, then every start ends serving`,
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      cleanups.push(dir.remove);
      const dbPath = join(dir.path, 'trialog.db');
      await startBusyWriter(dbPath);

      const outcomes: Outcome[] = [];
      for (let i = 0; i < STARTS; i += AT_ONCE) {
        outcomes.push(...(await Promise.all(Array.from({ length: AT_ONCE }, () => startOnce(dbPath)))));
      }

      const failed = outcomes.filter((o): o is Extract<Outcome, { served: false }> => !o.served);
      // Whatever ended a start, it must have said why and exited non-zero.
      for (const failure of failed) {
        expect(failure.code, failure.output).not.toBe(0);
        expect(failure.output.trim(), `exit ${failure.code} with no output`).not.toBe('');
      }
      expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    },
  );
});

describe('a start that goes wrong', () => {
  it('given a rejection nobody handles before the server serves, exits 1 with a line naming it', async () => {
    const dir = tempDir();
    cleanups.push(dir.remove);
    const preload = fileURLToPath(new URL('../fixtures/processes/reject-during-start.mjs', import.meta.url));
    const { output, exit } = runMain({ TRIALOG_DB: join(dir.path, 'trialog.db'), NODE_OPTIONS: `--import ${preload}` });
    expect(await exit).toBe(1);
    // One JSON log line (src/observability/logger.ts) at level fatal, naming the rejection.
    expect(output()).toMatch(
      /^\{.*"level":"fatal".*"msg":"unhandled rejection during start: Error: injected during start"\}$/m,
    );
    expect(output()).not.toMatch(/serving http:/);
  });
});
