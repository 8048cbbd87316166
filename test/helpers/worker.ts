/** Runs `trialog worker` as a separate process, as a user would on a training machine. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trialogArgs } from './commands.js';

export const PYTHON = process.env.PYTHON ?? 'python3';
export const EXAMPLE_SCRIPT = fileURLToPath(new URL('../../examples/train.py', import.meta.url));
export const BEHAVE_SCRIPT = fileURLToPath(new URL('../fixtures/worker/behave.py', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker wrote (its own log goes to stderr). */
  output(): string;
  exit: Promise<number | null>;
  /** Resolves once the worker's output matches. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

export function startWorker(
  url: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): WorkerProcess {
  const child = spawn(process.execPath, trialogArgs('worker', '--url', url, ...args), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))),
  );
  return {
    child,
    output: () => output,
    exit,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (!match) return;
          cleanup();
          resolve(match);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`worker output never matched ${pattern}:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exit.then(() => {
          check();
          if (listeners.has(check)) {
            cleanup();
            reject(new Error(`worker exited before its output matched ${pattern}:\n${output}`));
          }
        });
        check();
      });
    },
  };
}

/** True while a process with this pid exists (and is not a zombie we could still see). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` until it returns a value other than undefined/false. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
