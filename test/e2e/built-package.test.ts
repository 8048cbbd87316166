/**
 * The package as `npm ci` builds it, run the ways it is run: `npm start`, the container image's
 * start command (the Dockerfile's CMD), bin/trialog.mjs, and the typed client imported by another
 * Node project. Every other test runs the sources through tsx; this one builds them first, with the
 * build's own tsconfig, into a package laid out in a temporary directory (package.json, bin/, dist/,
 * a dashboard, the installed dependencies linked), so what it runs is never an older build.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readRuntimeImage } from '../../.ci/dockerfile.js';
import { REPOSITORY_ROOT } from '../helpers/commands.js';
import { tempDir } from '../helpers/server.js';

const scratch = tempDir('trialog-built-');
const pkg = join(scratch.path, 'trialog');
const consumer = join(scratch.path, 'consumer');
/** Node's --import for a module hook writing every module a process loads to $RECORD_MODULES_TO. */
const RECORD_MODULES = join(REPOSITORY_ROOT, 'test', 'helpers', 'record-modules.mjs');
const DASHBOARD_PAGE = '<!doctype html><title>the dashboard beside the built server</title>';

/** Runtime dependencies only: what `npm prune --omit=dev` leaves in the image. */
const packageJson = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

beforeAll(() => {
  mkdirSync(join(pkg, 'dashboard', 'dist'), { recursive: true });
  cpSync(join(REPOSITORY_ROOT, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(REPOSITORY_ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
  symlinkSync(join(REPOSITORY_ROOT, 'node_modules'), join(pkg, 'node_modules'));
  writeFileSync(join(pkg, 'dashboard', 'dist', 'index.html'), DASHBOARD_PAGE);
  // `npm run build:server`'s compiler and tsconfig, into this package's dist/.
  const tsc = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(
    process.execPath,
    [tsc, '-p', join(REPOSITORY_ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')],
    { encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
  writeConsumerProject();
}, 180_000);

afterAll(() => scratch.remove());

const running: ChildProcess[] = [];
afterEach(() => {
  // Each was started as the leader of a process group of its own: its whole group goes (npm's shell and server too).
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
});

interface Served {
  url: string;
  child: ChildProcess;
  output(): string;
}

/** Starts `program args` in the built package and resolves with its URL once it serves. */
function serve(program: string, args: string[], env: Record<string, string> = {}): Promise<Served> {
  const data = tempDir();
  const child = spawn(program, args, {
    cwd: pkg,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      TRIALOG_DB: join(data.path, 'trialog.db'),
      EVENTSTORE_URL: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.push(child);
  child.once('exit', () => data.remove());
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /serving (http:\/\/\S+\/graphql)/.exec(output)?.[1];
      if (url) resolve({ url, child, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${program} ${args.join(' ')} exited with ${code} before serving:\n${output}`)),
    );
  });
}

async function graphql(
  url: string,
  query: string,
  variables: object = {},
): Promise<{ data?: any; errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) { id status } }`;

function run(
  program: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(program, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the built package', () => {
  it('given the package built as npm ci builds it, when `npm start` runs, then the built server answers GraphQL and serves the dashboard beside it', async () => {
    expect(packageJson.scripts.start).toBe('exec node dist/src/main.js');
    const server = await serve('npm', ['start']);
    const created = await graphql(server.url, CREATE_JOB, { input: { hyperparameters: { lr: 0.1 } } });
    expect(created.errors).toBeUndefined();
    const read = await graphql(
      server.url,
      `
        query ($id: ID!) {
          job(id: $id) {
            id
            status
            hyperparameters
          }
        }
      `,
      { id: created.data.createJob.id },
    );
    expect(read.data.job).toEqual({ id: created.data.createJob.id, status: 'QUEUED', hyperparameters: { lr: 0.1 } });
    const page = await fetch(new URL('/', server.url));
    expect(page.status).toBe(200);
    expect(await page.text()).toBe(DASHBOARD_PAGE);
  });

  it("given the image's start command (the Dockerfile's CMD), when the server starts and answers, then it has loaded no dev dependency and nothing from the sources", async () => {
    const { cmd } = readRuntimeImage(join(REPOSITORY_ROOT, 'Dockerfile'));
    expect(cmd[0]).toBe('node');
    const trace = join(consumer, 'server-modules.txt');
    const server = await serve(process.execPath, ['--import', RECORD_MODULES, ...cmd.slice(1)], {
      RECORD_MODULES_TO: trace,
    });
    expect((await graphql(server.url, '{ logPosition }')).errors).toBeUndefined();

    const loaded = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
    expect(loaded.some((url) => url.includes('/dist/src/server.js'))).toBe(true);
    const sources = ['src', 'projections'].map((dir) => pathToFileURL(join(REPOSITORY_ROOT, dir)).href);
    expect(loaded.filter((url) => url.endsWith('.ts') || sources.some((dir) => url.startsWith(`${dir}/`)))).toEqual([]);
    expect(packagesIn(loaded).filter((name) => name in packageJson.devDependencies)).toEqual([]);
  });

  it('given the built package, when `bin/trialog.mjs --help` runs, then it prints the usage and exits 0', () => {
    const help = run(process.execPath, [join(pkg, 'bin', 'trialog.mjs'), '--help'], scratch.path);
    expect(help.stderr).toBe('');
    expect(help.stdout).toMatch(/^Usage: trialog \[options\] \[command\]/);
    expect(help.code).toBe(0);
  });

  it('given a built server with a job, when `bin/trialog.mjs jobs` runs, then the built CLI lists the job', async () => {
    const server = await serve(process.execPath, ['dist/src/main.js']);
    const created = await graphql(server.url, CREATE_JOB, {
      input: { hyperparameters: { lr: 0.5 }, labels: ['built-cli'] },
    });
    const jobs = run(process.execPath, [join(pkg, 'bin', 'trialog.mjs'), 'jobs'], scratch.path, {
      TRIALOG_URL: server.url,
      TRIALOG_KEY: '',
    });
    expect(jobs.stderr).toBe('');
    expect(jobs.stdout).toContain(created.data.createJob.id);
    expect(jobs.code).toBe(0);
  });

  it('given another Node project depending on trialog, when it imports trialog/client, then it runs a job through the client over HTTP and WebSocket, loading none of the server', async () => {
    const server = await serve(process.execPath, ['dist/src/main.js']);
    const trace = join(consumer, 'client-modules.txt');
    const result = run(process.execPath, ['--import', RECORD_MODULES, 'use-client.mjs', server.url], consumer, {
      RECORD_MODULES_TO: trace,
    });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      claimed: true,
      logLine: 'epoch 1 done',
      status: 'SUCCEEDED',
      missing: null,
      notFoundError: 'NOT_FOUND',
    });
    expect(result.code).toBe(0);

    const fromPackage = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((url) => url.includes('/trialog/dist/'));
    expect(fromPackage.length).toBeGreaterThan(0);
    expect(
      fromPackage.filter((url) => !/\/trialog\/dist\/src\/(client\/[\w-]+|domain\/errors)\.js$/.test(url)),
    ).toEqual([]);
    const packages = packagesIn(readFileSync(trace, 'utf8').split('\n').filter(Boolean));
    for (const server of ['graphql-yoga', 'better-sqlite3', '@eventstore/db-client', '@pothos/core', 'zod'])
      expect(packages).not.toContain(server);
  });

  it('given another TypeScript project, when it type-checks code using trialog/client, then the types are found and a misuse is an error', () => {
    const check = run(
      process.execPath,
      [join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'],
      consumer,
    );
    expect(check.stdout + check.stderr).toBe('');
    expect(check.code).toBe(0);
  });
});

/** The package names in a list of module URLs (`…/node_modules/@scope/name/…` or `…/node_modules/name/…`). */
function packagesIn(urls: string[]): string[] {
  const names = urls
    .map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
    .filter((name): name is string => name !== undefined);
  return [...new Set(names)];
}

/**
 * A project of its own beside the package: node_modules/trialog links to the built package, as an
 * install from a path or a repository would. It runs the client against a real server.
 */
function writeConsumerProject(): void {
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  symlinkSync(pkg, join(consumer, 'node_modules', 'trialog'));
  symlinkSync(join(REPOSITORY_ROOT, 'node_modules', '@types'), join(consumer, 'node_modules', '@types'));
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({
      name: 'uses-trialog',
      private: true,
      type: 'module',
      dependencies: { trialog: 'file:../trialog' },
    }),
  );
  writeFileSync(
    join(consumer, 'use-client.mjs'),
    `import { NotFoundError, TrialogClient } from 'trialog/client';

const client = new TrialogClient({ url: process.argv[2] });
const job = await client.createJob({ hyperparameters: { lr: 0.01 }, labels: ['from-another-project'] });
const claim = await client.claimJob({ workerId: 'another-project', labels: ['from-another-project'] });
const lease = { jobId: job.id, leaseToken: claim.leaseToken };
await client.appendLog({ ...lease, lines: ['epoch 1 done'] });
const lines = client.followLogs(job.id, undefined);
const { value: line } = await lines.next();
await lines.return(undefined);
const done = await client.completeJob({ ...lease, result: { accuracy: 0.9 } });
let notFoundError;
try {
  await client.cancelJob({ jobId: 'no-such-job' });
} catch (error) {
  notFoundError = error instanceof NotFoundError ? error.code : String(error);
}
console.log(JSON.stringify({ claimed: claim.job.id === job.id, logLine: line.text, status: done.status, missing: await client.job('no-such-job'), notFoundError }));
await client.close();
`,
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node'],
      },
      files: ['uses-types.ts'],
    }),
  );
  writeFileSync(
    join(consumer, 'uses-types.ts'),
    `import { TrialogClient, type JobStatus, type JobSummary, hasCode } from 'trialog/client';

export async function statusOf(client: TrialogClient, id: string): Promise<JobStatus | undefined> {
  const job = await client.job(id);
  return job?.status;
}

export function summarize(job: JobSummary): string {
  // @ts-expect-error: a status is one of the JobStatus strings, not a number
  const wrong: number = job.status;
  return \`\${job.id} \${job.status} \${wrong}\`;
}

export const isLeaseLost = (error: unknown): boolean => hasCode(error, 'LEASE_LOST');
// @ts-expect-error: not an error code the client knows
export const isMadeUp = (error: unknown): boolean => hasCode(error, 'MADE_UP');
`,
  );
}
