/**
 * The server under test: the build of `src/main.ts` in its own process (as
 * `npm start` runs it) on a store of the bench's choosing, with its memory sampled from
 * /proc while a scenario runs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

export interface BenchServer {
  url: string;
  pid: number;
  /** From spawn to the "serving" line, in ms. */
  startMs: number;
  /** Starts sampling resident memory; `stop` answers the peak seen, in MiB. */
  sampleMemory(): { stop(): number };
  rssMiB(): number;
  /** The kernel's high-water mark of resident memory since the process started (start-up included), MiB. */
  peakSinceStartMiB(): number;
  /** Resets the high-water mark to the current resident memory (Linux clear_refs), so the next peak is one step's. */
  resetPeak(): void;
  /** CPU time the process has used so far, user and system, in ms (from /proc, at the kernel's tick). */
  cpuMs(): number;
  stop(): Promise<void>;
}

let built = false;

/**
 * The server as production runs it (`npm start`: the build in dist/), built from the sources once per bench
 * process so it is never stale. Not through tsx: its loader thread and the sources it compiles take about
 * 55 MiB of an idle server's 170 MiB, memory no deployed server holds.
 */
function buildOnce(): void {
  if (built) return;
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
  built = true;
}

export async function startBenchServer(dbPath: string, env: Record<string, string> = {}): Promise<BenchServer> {
  buildOnce();
  const started = performance.now();
  // TRIALOG_BENCH_CPU_PROF=<dir>: the server writes a CPU profile there when it stops (node refuses --cpu-prof in NODE_OPTIONS).
  const profile = process.env.TRIALOG_BENCH_CPU_PROF;
  const profiling = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const child = spawn(process.execPath, [...profiling, 'dist/src/main.js'], {
    cwd: root,
    env: { ...process.env, TRIALOG_DB: dbPath, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      const match = /serving (http:\/\/\S+\/graphql)/.exec(output);
      if (match) {
        // The server logs a line per request from now on: read and dropped, not kept and rescanned.
        child.stdout.off('data', onData).resume();
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the server exited with ${code}:\n${output}`)));
  });
  const startMs = performance.now() - started;
  const pid = child.pid!;
  return {
    url,
    pid,
    startMs,
    rssMiB: () => rssOf(pid),
    peakSinceStartMiB: () => rssOf(pid, 'VmHWM'),
    resetPeak: () => writeFileSync(`/proc/${pid}/clear_refs`, '5'),
    cpuMs: () => cpuMsOf(pid),
    sampleMemory() {
      let peak = rssOf(pid);
      const timer = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
      return {
        stop() {
          clearInterval(timer);
          return Math.max(peak, rssOf(pid));
        },
      };
    },
    stop: () => stopChild(child),
  };
}

function rssOf(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return 0;
  }
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15, after the parenthesised name), in ticks. */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SECOND);
}

/** USER_HZ: 100 on every Linux the bench runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
