/**
 * `npx tsx .ci/check-image-start.ts`: the container image's start, checked without Docker (none runs
 * on these machines). After `npm run build` (npm ci runs it), from the Dockerfile itself:
 *
 * 1. lays out the runtime stage's files (its `COPY --from` lines) in a temporary directory, the
 *    installed dependencies linked rather than copied;
 * 2. runs its ENTRYPOINT and CMD there with its ENV (and nothing else from this environment), as PID 1
 *    of a PID namespace of its own as a container has it (`unshare`), the VOLUME being a temporary
 *    directory and PORT a free port;
 * 3. runs its HEALTHCHECK command until it passes, reads the bootstrap admin key the server wrote
 *    beside TRIALOG_DB in the volume and asks who it is over GraphQL;
 * 4. sends SIGTERM to PID 1, as `docker stop` does, and expects a clean exit.
 *
 * What it cannot see: the image's own Node and base system, its user, and dev dependencies pruned
 * from its node_modules (test/e2e/built-package.test.ts checks that the built server loads none).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../test/helpers/free-port.js';
import { readRuntimeImage, type RuntimeImage } from './dockerfile.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const STARTED_WITHIN_MS = 60_000;
const STOPPED_WITHIN_MS = 30_000;

async function main(): Promise<void> {
  const image = readRuntimeImage(join(root, 'Dockerfile'));
  const scratch = mkdtempSync(join(tmpdir(), 'trialog-image-'));
  let container: ChildProcess | undefined;
  try {
    const workdir = layOutRuntimeFiles(image, join(scratch, 'image'));
    const port = await freePort();
    const env = containerEnv(image, join(scratch, 'volumes'), port);
    const command = [...image.entrypoint, ...image.cmd];
    const { PATH: _path, ...imageEnv } = env;
    say(`running ${JSON.stringify(command)} as PID 1 in ${workdir} with ${JSON.stringify(imageEnv)}`);
    const started = startAsPid1(command, workdir, env);
    container = started.child;

    await healthcheckPasses(image, workdir, env, started.output);
    say(`HEALTHCHECK ${JSON.stringify(image.healthcheck)} passed`);

    const keyFile = join(dirname(env.TRIALOG_DB!), 'admin.key');
    if ((statSync(keyFile).mode & 0o077) !== 0) throw new Error(`${keyFile} is readable by others`);
    const key = readFileSync(keyFile, 'utf8').trim();
    const viewer = await graphql(port, key, '{ viewer { name role } }');
    if (JSON.stringify(viewer) !== JSON.stringify({ data: { viewer: { name: 'bootstrap-admin', role: 'ADMIN' } } })) {
      throw new Error(`the bootstrap admin key did not answer as the admin: ${JSON.stringify(viewer)}`);
    }
    say(
      `the bootstrap admin key in the volume (${posix.join(image.volumes[0]!, 'admin.key')}) answers as bootstrap-admin`,
    );

    const code = await stopLikeDockerStop(started);
    if (code !== 0) throw new Error(`after SIGTERM PID 1 exited with ${code}:\n${started.output()}`);
    say('SIGTERM to PID 1: the server shut down and PID 1 exited 0');
    container = undefined;
  } finally {
    if (container && container.exitCode === null) container.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
  }
}

function say(line: string): void {
  console.log(`image start: ${line}`);
}

/** The runtime stage's files: copies of what it copies from the build stage, node_modules linked (its size). */
function layOutRuntimeFiles(image: RuntimeImage, imageRoot: string): string {
  const workdir = join(imageRoot, image.workdir);
  for (const { source, target } of image.copiedFromBuild) {
    const from = join(root, source);
    const to = join(workdir, target);
    if (!existsSync(from))
      throw new Error(`the Dockerfile copies ${source}, which is missing here: run \`npm run build\` first`);
    mkdirSync(dirname(to), { recursive: true });
    if (source === 'node_modules') symlinkSync(from, to);
    else cpSync(from, to, { recursive: true });
  }
  return workdir;
}

/** The image's ENV and nothing of this environment but PATH; paths under a VOLUME moved under `volumes`. */
function containerEnv(image: RuntimeImage, volumes: string, port: number): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [name, value] of Object.entries(image.env)) {
    const volume = image.volumes.find((path) => value === path || value.startsWith(`${path}/`));
    env[name] = volume ? join(volumes, value) : value;
  }
  for (const volume of image.volumes) mkdirSync(join(volumes, volume), { recursive: true });
  if (!env.TRIALOG_DB) throw new Error('the Dockerfile sets no TRIALOG_DB');
  if (!image.volumes.some((volume) => image.env.TRIALOG_DB!.startsWith(`${volume}/`)))
    throw new Error('TRIALOG_DB is not on a VOLUME');
  env.PORT = String(port); // the one change: this machine's 4000 may be taken
  return env;
}

interface Started {
  child: ChildProcess;
  output(): string;
  exit: Promise<number | null>;
}

/** `unshare --pid --fork`: the command is PID 1 of a new PID namespace, signalled from outside it as Docker does. */
function startAsPid1(command: string[], cwd: string, env: Record<string, string>): Started {
  if (!existsSync(command[0]!))
    throw new Error(`${command[0]} (the ENTRYPOINT) is not installed here: apt-get install -y tini`);
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', ...command], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  return { child, output: () => output, exit };
}

async function healthcheckPasses(
  image: RuntimeImage,
  cwd: string,
  env: Record<string, string>,
  output: () => string,
): Promise<void> {
  const [program, ...args] = image.healthcheck;
  const deadline = Date.now() + STARTED_WITHIN_MS;
  for (;;) {
    if (spawnSync(program!, args, { cwd, env, stdio: 'ignore', timeout: 5_000 }).status === 0) return;
    if (Date.now() > deadline)
      throw new Error(`the HEALTHCHECK did not pass within ${STARTED_WITHIN_MS / 1000} s:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** SIGTERM to the namespace's PID 1 (unshare's child), then wait for it to end. */
async function stopLikeDockerStop(started: Started): Promise<number | null> {
  const pid1 = readFileSync(`/proc/${started.child.pid}/task/${started.child.pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)[0];
  if (!pid1) throw new Error('no PID 1 under unshare');
  process.kill(Number(pid1), 'SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), STOPPED_WITHIN_MS).unref());
  const result = await Promise.race([started.exit, timeout]);
  if (result === 'timeout')
    throw new Error(`PID 1 did not exit within ${STOPPED_WITHIN_MS / 1000} s of SIGTERM:\n${started.output()}`);
  return result;
}

async function graphql(port: number, key: string, query: string): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

main().catch((error: unknown) => {
  console.error(`image start: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
