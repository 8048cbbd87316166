/**
 * A server started on EventStoreDB, as an operator starts it (its own process,
 * src/main.ts): a connection string the client would refuse or ignore stops it
 * with one line and exit 2; a server that does not answer is tried again with
 * a line per attempt, then given up with one line and exit 1. Never a stack
 * trace, never the password.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runMain } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

const password = 'hunter2-not-for-logs';
const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.remove();
});

async function start(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  const dir = tempDir();
  dirs.push(dir);
  const { exit, output } = runMain({ TRIALOG_DB: join(dir.path, 'trialog.db'), ...env });
  const code = await exit;
  return { code, lines: output().trim().split('\n') };
}

describe('a connection string the client would refuse or ignore', () => {
  for (const [what, query] of [
    ['tls=maybe', '?tls=maybe'],
    ['an option the client does not know (tsl=false)', '?tsl=false'],
    ['tlsVerifyCert=false (not supported by the client)', '?tls=true&tlsVerifyCert=false'],
    ['a tlsCAFile that does not exist', '?tls=true&tlsCAFile=/nonexistent/ca.pem'],
  ]) {
    it(
      `given ${what}, when the server starts, then it exits 2 with one line naming EVENTSTORE_URL, password redacted`,
      { timeout: 60_000 },
      async () => {
        const { code, lines } = await start({ EVENTSTORE_URL: `esdb://admin:${password}@localhost:2113${query}` });
        expect(code, lines.join('\n')).toBe(2);
        expect(lines).toEqual([
          expect.stringMatching(/^trialog: invalid configuration: EVENTSTORE_URL .*admin:\*\*\*@localhost:2113/),
        ]);
        expect(lines.join('\n')).not.toContain(password);
      },
    );
  }
});

describe('an EventStoreDB nobody answers at', () => {
  it(
    'given TRIALOG_STORE_START_SECONDS=1, when the server starts, then it says per attempt what failed, where and when it tries next, then gives up with one line and exit 1',
    { timeout: 90_000 },
    async () => {
      const { code, lines } = await start({
        EVENTSTORE_URL: `esdb://admin:${password}@127.0.0.1:1?tls=false`,
        TRIALOG_STORE_START_SECONDS: '1',
      });
      expect(code, lines.join('\n')).toBe(1);
      // Attempts go through the JSON logger; giving up is the plain last line on stderr.
      const attempts = lines.slice(0, -1).map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(attempts.length).toBeGreaterThanOrEqual(1);
      for (const line of attempts) {
        expect(line).toMatch(
          /^EventStoreDB at esdb:\/\/admin:\*\*\*@127\.0\.0\.1:1\?tls=false is unreachable \(attempt \d+: .*UNAVAILABLE.*\); next attempt in \d+ s$/,
        );
      }
      expect(lines.at(-1)).toMatch(
        /^trialog: failed to start: EventStoreDB at esdb:\/\/admin:\*\*\*@127\.0\.0\.1:1\?tls=false is unreachable: gave up after \d+ attempts in \d+ s \(TRIALOG_STORE_START_SECONDS=1\)/,
      );
      expect(lines.join('\n')).not.toContain(password);
      expect(lines.join('\n')).not.toMatch(/^\s+at /m);
    },
  );

  it(
    'given TRIALOG_STORE_START_SECONDS that is not a whole number, when the server starts, then it exits 2 with one line naming it',
    { timeout: 60_000 },
    async () => {
      const { code, lines } = await start({ TRIALOG_STORE_START_SECONDS: 'soon' });
      expect(code).toBe(2);
      expect(lines).toEqual([expect.stringMatching(/TRIALOG_STORE_START_SECONDS must be a whole number/)]);
    },
  );
});
