/** Runs the `trialog` command line in its own process, as a person would, from the sources (./commands.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trialogArgs } from './commands.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Resolves once standard output holds `text`. */
  printed(text: string): Promise<void>;
  finished: Promise<Finished>;
}

/** Starts `trialog ARGS` with `env` added to this process's environment; `nodeArgs` go before the script. */
export function startCli(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Running {
  const child = spawn(process.execPath, [...nodeArgs, ...trialogArgs(...args)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = new Promise<Finished>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!stdout.includes(text)) return;
        child.stdout.off('data', check);
        resolve();
      };
      child.stdout.on('data', check);
      check();
      void finished.then(() =>
        reject(new Error(`trialog ${args.join(' ')} ended without printing "${text}":\n${stdout}${stderr}`)),
      );
    });
  return { child, printed, finished };
}
