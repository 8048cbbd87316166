/**
 * `npm start` as an operator runs it: SIGTERM to npm's own PID stops the
 * server. npm 11 passes the signal to the shell it runs the script with,
 * which dies without passing it on; the server sees its parent go and shuts
 * down in order (src/parent-watch.ts).
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { tempDir } from '../helpers/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dirs: { remove(): void }[] = [];
const started: number[] = [];
afterEach(() => {
  // Whatever this test started and is still running (a server the fix failed to stop) is killed by its PID.
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  dirs.splice(0).forEach((dir) => dir.remove());
});

/** The PIDs of `pid`'s descendants, from /proc (Linux). */
function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of parentOf) {
      if (ppid !== parent) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

const refusesConnections = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

it('given a server started by an npm script through a shell, when npm is sent SIGTERM, then the server shuts down in order and stops listening', async () => {
  const dir = tempDir();
  dirs.push(dir);
  // The shape that was left orphaned: npm → sh → node (a compound command, so the shell cannot exec).
  const script = `cd ${JSON.stringify(root)} && node --import tsx src/main.ts`;
  writeFileSync(
    join(dir.path, 'package.json'),
    JSON.stringify({ name: 'npm-start-signal', private: true, scripts: { start: script } }),
  );
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: dir.path,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', TRIALOG_DB: join(dir.path, 'trialog.db') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // The pipes close once every process holding them (npm, the shell, the server) has exited.
  const allGone = new Promise<void>((resolve) => npm.stdout.once('close', () => resolve()));
  while (!/serving http:\/\/127\.0\.0\.1:(\d+)\//.test(output)) {
    if (npm.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const port = Number(/serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(output)![1]);
  expect(await refusesConnections(port)).toBe(false);
  const tree = descendantsOf(npm.pid!);
  started.push(npm.pid!, ...tree);
  expect(tree.length, 'npm runs the script through a shell, which runs the server').toBeGreaterThanOrEqual(2);

  npm.kill('SIGTERM');
  await allGone;
  expect(output).toMatch(/shutdown 5\/5: store closed; exiting/);
  expect(await refusesConnections(port)).toBe(true);
});
