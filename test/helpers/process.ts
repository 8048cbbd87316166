/** Runs the server (`src/main.ts`) as a separate process, as `npm start` runs its build. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { REPOSITORY_ROOT as root, serverArgs, trialogArgs } from './commands.js';
import { tempDir } from './server.js';
import { fixedHeap } from './memory.js';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

export function runMain(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, serverArgs(), {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

export async function startServerProcess(dbPath: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const { child, output, exit } = runMain({ TRIALOG_DB: dbPath, ...env });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output()}`)), 30_000);
    const onData = () => {
      const match = /serving (http:\/\/\S+\/graphql)/.exec(output());
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        // A server bound to every interface is still reached over loopback only.
        resolve(match[1]!.replace('//0.0.0.0:', '//127.0.0.1:'));
      }
    };
    child.stdout!.on('data', onData);
    void exit.then((code) => reject(new Error(`server exited with ${code}:\n${output()}`)));
  });
  return {
    url,
    child,
    output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exit;
    },
  };
}

/**
 * A server process on `dbPath` with a fixed heap (the bounded-memory specs),
 * given to `use`, then stopped. Should `use` fail, the error carries the
 * server's last output: a server that held too much dies in its heap, and
 * saying so beats "the socket closed".
 */
export async function withFixedHeapServer<T>(
  dbPath: string,
  heapMiB: number,
  use: (server: ServerProcess) => Promise<T>,
): Promise<T> {
  const server = await startServerProcess(dbPath, {
    NODE_OPTIONS: `${fixedHeap(heapMiB).NODE_OPTIONS} --max-semi-space-size=1`,
    TRIALOG_SYNCHRONOUS: 'NORMAL',
  });
  try {
    return await use(server);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}; the server's last output:\n${server.output().slice(-1500)}`, { cause: error });
  } finally {
    await server.kill('SIGTERM');
  }
}

/** Runs the `trialog` command line on a database, as an operator would. */
export function trialogCli(
  args: string[],
  dbPath: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, trialogArgs(...args), {
      cwd: root,
      env: { ...process.env, TRIALOG_DB: dbPath, EVENTSTORE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Server processes for a test file: `start` runs one on a database, `freshDb`
 * makes a database path in a directory of its own; after each test every
 * process started is killed (SIGKILL) and every directory removed.
 */
export function serverProcessesPerTest(): {
  start(dbPath: string, env?: Record<string, string>): Promise<ServerProcess>;
  freshDb(): string;
} {
  const running: ServerProcess[] = [];
  const dirs: { remove(): void }[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
    for (const dir of dirs.splice(0)) dir.remove();
  });
  return {
    async start(dbPath, env = {}) {
      const server = await startServerProcess(dbPath, env);
      running.push(server);
      return server;
    },
    freshDb() {
      const dir = tempDir();
      dirs.push(dir);
      return join(dir.path, 'trialog.db');
    },
  };
}
