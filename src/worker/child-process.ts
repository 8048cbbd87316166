/**
 * The training command as a child process in its own process group, so that
 * stopping it reaches everything it started (data loaders, shells, torchrun's
 * ranks), and so that a Ctrl-C meant for the worker does not reach it before
 * the worker decides what to do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { MAX_LINE_BYTES } from './output-lines.js';
import { splitLines } from './line-splitter.js';

/** How long output is still read after the command exited, from processes it left running elsewhere. */
const PIPE_DRAIN_MS = 5_000;

export interface ChildExit {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It could not be started at all (command not found, not executable). */
  spawnError?: Error;
}

export interface RunningChild {
  pid: number | undefined;
  /** Resolves once the process has exited and its output has been read to the end. */
  exited: Promise<ChildExit>;
  /**
   * SIGTERM to the group, then SIGKILL after `graceMs` if it is still there. Once: a command stopped
   * for two reasons at once (a report answered "stop" and the subscription said "pruned") gets one
   * SIGTERM, since a second one arriving while its handler is cleaning up would kill it mid-way.
   */
  terminate(graceMs: number): void;
  /** SIGKILL to the group, now. */
  kill(): void;
}

export function startChild(
  command: string[],
  options: {
    env: NodeJS.ProcessEnv;
    cwd: string;
    onStdout: (line: string) => void;
    onStderr: (line: string) => void;
    /** The process itself has exited (its output may still be draining): its ending is decided. */
    onExit?: () => void;
  },
): RunningChild {
  const [file, ...args] = command;
  let child: ChildProcess;
  try {
    child = spawn(file!, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    return notStarted(error as Error);
  }
  let exitedAlready = false;
  let killTimer: NodeJS.Timeout | undefined;
  /** SIGTERM was sent (and the SIGKILL after the grace period set): later stops add nothing. */
  let terminating = false;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // ESRCH: the group is gone already.
    }
  };
  const streamsDone = Promise.all([
    splitLines(child.stdout!, MAX_LINE_BYTES, options.onStdout),
    splitLines(child.stderr!, MAX_LINE_BYTES, options.onStderr),
  ]);
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', (error) => {
      // 'error' without a pid: it never started.
      if (child.pid === undefined) resolve({ code: null, signal: null, spawnError: error });
    });
    child.once('exit', (code, signal) => {
      exitedAlready = true;
      options.onExit?.();
      clearTimeout(killTimer);
      // Whatever it left behind in its group (a background helper) goes with it.
      signalGroup('SIGKILL');
      // The pipes close once every process holding them is gone. One that left the group
      // (setsid: a TensorBoard, a wandb service) may hold them for ever: stop reading after a while.
      const stragglers = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, PIPE_DRAIN_MS);
      void streamsDone.then(() => {
        clearTimeout(stragglers);
        resolve({ code, signal });
      });
    });
  });
  return {
    pid: child.pid,
    exited,
    terminate(graceMs) {
      if (exitedAlready || terminating) return;
      terminating = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
      killTimer.unref();
    },
    kill() {
      if (!exitedAlready) signalGroup('SIGKILL');
    },
  };
}

function notStarted(error: Error): RunningChild {
  return {
    pid: undefined,
    exited: Promise.resolve({ code: null, signal: null, spawnError: error }),
    terminate() {},
    kill() {},
  };
}
