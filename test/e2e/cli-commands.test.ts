/**
 * The command line as people expect it, each command in its own process
 * against a real server: --version, help for every command, suggestions for
 * what was mistyped, a --help that loads almost nothing, jobs newest first or
 * sorted by the server, tables measured by display width, why a job was
 * pruned or cancelled, `logs -f` exiting with how the job ended, and a wrong
 * URL path reported as such.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoEndpointError, TrialogClient } from '../../src/client/client.js';
import { startCli } from '../helpers/cli.js';
import { trialogArgs } from '../helpers/commands.js';
import { APPEND_LOG, COMPLETE, FAIL, REPORT_METRICS, claim, createJob } from '../helpers/jobs.js';
import { ok, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Each command is a process of its own: allow for a slow machine. */
const SPAWNS = 60_000;

let t: TestServer;
const files = tempDir('trialog-cli-commands-');
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
  files.remove();
});

const trialog = (...args: string[]) => startCli(args, { TRIALOG_URL: t.url, TRIALOG_KEY: '' }).finished;
const lines = (text: string) => text.trimEnd().split('\n');

let names = 0;
async function createExperiment(input: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const defaults = {
    name: `commands-${++names}`,
    scheduler: { manual: {} },
    objective: { metric: 'loss', direction: 'MINIMIZE' },
  };
  const create = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id name } }`;
  return ok(await t.gql(create, { input: { ...defaults, ...input } })).createExperiment;
}

async function claimed(experimentId: string): Promise<{ jobId: string; leaseToken: string }> {
  const lease = (await claim(t.gql, { workerId: 'commands-worker', experimentId }))!;
  return { jobId: lease.job.id, leaseToken: lease.leaseToken };
}

describe('version and help', () => {
  it(
    'when `trialog --version`, then it prints the version of package.json and exits 0',
    { timeout: SPAWNS },
    async () => {
      const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
      const { code, stdout } = await trialog('--version');
      expect(code).toBe(0);
      expect(stdout).toBe(`${version}\n`);
    },
  );

  for (const command of ['replay', 'export', 'import', 'verify']) {
    it(
      `when \`trialog help ${command}\`, then it says what ${command} does, its options, examples and exit codes`,
      { timeout: SPAWNS },
      async () => {
        const { code, stdout } = await trialog('help', command);
        expect(code).toBe(0);
        expect(stdout).toMatch(new RegExp(`^Usage: trialog ${command}`));
        expect(stdout).toMatch(/TRIALOG_DB/);
        expect(stdout).toMatch(new RegExp(`Examples:\\n  .*trialog ${command}`));
        expect(stdout).toMatch(/exit codes: 0 /);
        // `trialog COMMAND --help` is the same text.
        expect((await trialog(command, '--help')).stdout).toBe(stdout);
      },
    );
  }

  it('when `trialog help`, then every command is listed with the exit codes', { timeout: SPAWNS }, async () => {
    const { code, stdout } = await trialog('help');
    expect(code).toBe(0);
    for (const command of [
      'jobs',
      'job',
      'logs',
      'cancel',
      'experiment',
      'experiments',
      'watch',
      'worker',
      'replay',
      'export',
      'import',
      'verify',
    ]) {
      expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(stdout).toMatch(/exit codes: 0 done/);
  });
});

describe('usage errors', () => {
  it('given a mistyped command, then it exits 2 and suggests the command meant', { timeout: SPAWNS }, async () => {
    const { code, stdout, stderr } = await trialog('jbos');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^trialog: unknown command 'jbos'\n\(Did you mean jobs\?\)/);
  });

  it('given a mistyped option, then it exits 2 and suggests the option meant', { timeout: SPAWNS }, async () => {
    const { code, stderr } = await trialog('jobs', '--stauts', 'running');
    expect(code).toBe(2);
    expect(stderr).toMatch(/^trialog: unknown option '--stauts'\n\(Did you mean --status\?\)/);
  });

  it(
    'given a command without its argument, or with one too many, then it exits 2 saying so',
    { timeout: SPAWNS },
    async () => {
      const missing = await trialog('job');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/missing required argument 'job-id'/);
      const extra = await trialog('job', 'a', 'b');
      expect(extra.code).toBe(2);
      expect(extra.stderr).toMatch(/too many arguments/);
    },
  );

  it('given nothing at all, then the usage goes to stderr and it exits 2', { timeout: SPAWNS }, async () => {
    const { code, stdout, stderr } = await trialog();
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^Usage: trialog/);
  });
});

describe('a fast --help', () => {
  /** The modules a run of `trialog ARGS` loaded, recorded by a module hook. */
  async function modulesLoadedBy(...args: string[]): Promise<{ code: number | null; modules: string[] }> {
    const record = join(files.path, `modules-${args.join('-')}.txt`);
    const { code } = await startCli(args, { RECORD_MODULES_TO: record }, [
      '--import',
      './test/helpers/record-modules.mjs',
    ]).finished;
    return { code, modules: readFileSync(record, 'utf8').trim().split('\n') };
  }

  /** What a command's implementation needs and help does not. */
  const HEAVY = [
    /\/src\/client\/client\./,
    /\/src\/store\//,
    /\/src\/worker\//,
    /\/src\/config\./,
    /\/src\/cli\/people\//,
    /node_modules\/(graphql-ws|graphql|better-sqlite3|zod|p-retry|yaml|ws|@eventstore)\//,
  ];

  for (const args of [['--help'], ['help', 'jobs'], ['worker', '--help']]) {
    it(
      `when \`trialog ${args.join(' ')}\`, then it loads the parser and the command definitions, and none of the client, store or worker`,
      { timeout: SPAWNS },
      async () => {
        const { code, modules } = await modulesLoadedBy(...args);
        expect(code).toBe(0);
        expect(modules.some((url) => /node_modules\/commander\//.test(url))).toBe(true);
        expect(modules.some((url) => /\/src\/cli\/program\./.test(url))).toBe(true);
        expect(modules.filter((url) => HEAVY.some((heavy) => heavy.test(url)))).toEqual([]);
      },
    );
  }

  it(
    'when a command runs, then it does load its implementation (the recording sees it)',
    { timeout: SPAWNS },
    async () => {
      const { modules } = await modulesLoadedBy('jobs', '--url', 'not a url');
      expect(modules.some((url) => /\/src\/client\/client\./.test(url))).toBe(true);
    },
  );
});

describe('trialog jobs --sort', () => {
  let experiment: { id: string; name: string };
  const byPriority: string[] = [];
  beforeAll(async () => {
    experiment = await createExperiment();
    for (const priority of [5, 1, 9, 5])
      byPriority.push((await createJob(t.gql, { experimentId: experiment.id, priority })).id);
    // Objective values 0.3 and 0.1; the queued jobs have none.
    for (const loss of [0.3, 0.1]) {
      const lease = await claimed(experiment.id);
      ok(await t.gql(COMPLETE, { input: { ...lease, result: { loss } } }));
    }
  });

  const idsOf = async (...args: string[]) => {
    const { code, stdout, stderr } = await trialog('jobs', '--experiment', experiment.id, '--json', ...args);
    expect(code, stderr).toBe(0);
    return (JSON.parse(stdout) as { jobs: { id: string; objectiveValue: number | null }[] }).jobs;
  };

  it(
    'when `--sort priority`, then the highest priority comes first, ties newest first',
    { timeout: SPAWNS },
    async () => {
      const [p5a, p1, p9, p5b] = byPriority;
      expect((await idsOf('--sort', 'priority')).map((job) => job.id)).toEqual([p9, p5b, p5a, p1]);
      expect((await idsOf('--sort', 'priority:asc')).map((job) => job.id)).toEqual([p1, p5a, p5b, p9]);
    },
  );

  it(
    'when `--sort objective:asc`, then the lowest value comes first and jobs without one come last',
    { timeout: SPAWNS },
    async () => {
      const values = (await idsOf('--sort', 'objective:asc')).map((job) => job.objectiveValue);
      expect(values).toEqual([0.1, 0.3, null, null]);
    },
  );

  it('given the server sorts, when a client pages through `jobs(orderBy)` two at a time, then it sees every job once, in order', async () => {
    const query = `query($after: String, $filter: JobFilter) {
      jobs(first: 2, after: $after, filter: $filter, orderBy: { field: PRIORITY, direction: DESC }) {
        pageInfo { hasNextPage endCursor } edges { node { id priority } }
      } }`;
    const seen: { id: string; priority: number }[] = [];
    for (let after: string | undefined; ;) {
      const page = ok(await t.gql(query, { after, filter: { experimentId: experiment.id } })).jobs;
      seen.push(...page.edges.map((edge: { node: { id: string; priority: number } }) => edge.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.map((job) => job.priority)).toEqual([9, 5, 5, 1]);
    expect(new Set(seen.map((job) => job.id)).size).toBe(4);
  });

  it('when `--sort` names no field there is, then it exits 2 naming the fields', { timeout: SPAWNS }, async () => {
    const { code, stderr } = await trialog('jobs', '--sort', 'size:up');
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /--sort must be FIELD or FIELD:asc or FIELD:desc, FIELD one of created, priority, objective/,
    );
  });
});

describe('tables measured by display width', () => {
  const WIDE = '実験の名前'; // five characters, ten columns
  const EMOJI = 'run 🎉 e\u0301'; // an emoji (two columns) and a combining accent (none)
  let long: string;
  beforeAll(async () => {
    const wide = await createExperiment({ name: WIDE });
    const emoji = await createExperiment({ name: EMOJI });
    long = 'x'.repeat(300);
    await createJob(t.gql, { experimentId: wide.id, hyperparameters: { note: long } });
    await createJob(t.gql, { experimentId: emoji.id, hyperparameters: { note: 'short' } });
  });

  it(
    'given names with wide characters, emoji and combining marks, when piped, then columns line up as a terminal shows them and nothing is cut',
    { timeout: SPAWNS },
    async () => {
      const { code, stdout } = await trialog('jobs', '--first', '2');
      expect(code).toBe(0);
      const [header, ...rows] = lines(stdout);
      expect(rows[0]).toContain(EMOJI);
      expect(rows[1]).toContain(WIDE);
      expect(rows[1]).toContain(long); // a script gets every character
      // The attempts column starts at the same terminal column on every line.
      const { default: stringWidth } = await import('string-width');
      const column = (line: string, at: string) => stringWidth(line.slice(0, line.indexOf(at)));
      expect(column(rows[0]!, '0/3')).toBe(column(header!, 'attempts'));
      expect(column(rows[1]!, '0/3')).toBe(column(header!, 'attempts'));
    },
  );

  it(
    'given a terminal 80 columns wide, when the table is wider, then each line is cut to fit with an ellipsis',
    { timeout: SPAWNS },
    async () => {
      // A real terminal: util-linux `script` runs the command on a pseudo-terminal.
      const trialog = [process.execPath, ...trialogArgs('jobs', '--first', '2')].map((word) => `'${word}'`).join(' ');
      const command = `stty cols 80; TRIALOG_URL=${t.url} TRIALOG_KEY= ${trialog}`;
      // Not execFileSync: the server answering it runs in this process.
      const { stdout: output } = await promisify(execFile)('script', ['-qec', command, '/dev/null'], {
        cwd: root,
        encoding: 'utf8',
      });
      const { default: stringWidth } = await import('string-width');
      const shown = output.replace(/\r/g, '').trimEnd().split('\n');
      expect(shown.slice(3)).toEqual(shown.length > 3 ? [expect.stringMatching(/^2 of \d+ jobs$/)] : []);
      for (const line of shown) expect(stringWidth(line)).toBeLessThanOrEqual(80);
      expect(shown[2]).toContain('…');
      expect(shown[2]).toContain(WIDE);
    },
  );
});

describe('why a job was pruned or cancelled', () => {
  it(
    'given a job pruned by the median rule, when `trialog job ID`, then the rule, step, value and threshold are shown under their own labels',
    { timeout: SPAWNS },
    async () => {
      const space = [{ name: 'lr', distribution: { uniform: { low: 0, high: 1 } } }];
      const experiment = await createExperiment({
        scheduler: { random: { space, seed: 5 } },
        earlyStopping: { median: { startupJobs: 2, warmupSteps: 1 } },
      });
      for (const losses of [
        [1.0, 0.6],
        [1.0, 0.8],
      ]) {
        const lease = await claimed(experiment.id);
        ok(
          await t.gql(REPORT_METRICS, {
            input: { ...lease, points: losses.map((value, step) => ({ name: 'loss', step, value })) },
          }),
        );
        ok(await t.gql(COMPLETE, { input: { ...lease, result: {} } }));
      }
      const pruned = await claimed(experiment.id);
      const answer = ok(
        await t.gql(REPORT_METRICS, {
          input: {
            ...pruned,
            points: [
              { name: 'loss', step: 0, value: 2 },
              { name: 'loss', step: 1, value: 1.5 },
            ],
          },
        }),
      );
      expect(answer.reportMetrics.shouldStop).toBe(true);

      const { code, stdout } = await trialog('job', pruned.jobId);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^status\s+PRUNED$/m);
      expect(stdout).toMatch(/^pruned by\s+median$/m);
      expect(stdout).toMatch(/^pruned at\s+step 1: value 1\.5, threshold 0\.7 from 2 trials$/m);
    },
  );

  it(
    'given a job cancelled with a reason, when `trialog job ID`, then the reason and who cancelled it are shown under their own labels',
    { timeout: SPAWNS },
    async () => {
      const job = await createJob(t.gql, { experimentId: (await createExperiment()).id });
      expect((await trialog('cancel', job.id, '--reason', 'wrong dataset')).code).toBe(0);
      const { code, stdout } = await trialog('job', job.id);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^status\s+CANCELLED$/m);
      expect(stdout).toMatch(/^cancel reason\s+wrong dataset$/m);
      expect(stdout).toMatch(/^cancelled\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d by \S+, while QUEUED$/m);
      expect(stdout).not.toMatch(/^error\s/m); // the reason is not shown twice
    },
  );
});

describe('trialog logs -f ends with how the job ended', () => {
  it(
    'given a running job that fails, when following its log, then it prints the final status and exits 5',
    { timeout: SPAWNS },
    async () => {
      const { id: experimentId } = await createExperiment();
      await createJob(t.gql, { experimentId, maxAttempts: 1 });
      const lease = await claimed(experimentId);
      ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['epoch 1'], stream: 'STDOUT' } }));
      const following = startCli(['logs', lease.jobId, '-f'], { TRIALOG_URL: t.url, TRIALOG_KEY: '' });
      await following.printed('epoch 1\n');
      ok(await t.gql(FAIL, { input: { ...lease, error: 'diverged', retry: false } }));
      const { code, stdout, stderr } = await following.finished;
      expect(stdout).toBe('epoch 1\n');
      expect(stderr).toBe(`job ${lease.jobId} FAILED\n`);
      expect(code).toBe(5);
    },
  );

  it(
    'given a cancelled job, when following its log with --json, then the last line is its status and it exits 6',
    { timeout: SPAWNS },
    async () => {
      const job = await createJob(t.gql, { experimentId: (await createExperiment()).id });
      expect((await trialog('cancel', job.id)).code).toBe(0);
      const { code, stdout } = await trialog('logs', job.id, '-f', '--json');
      expect(JSON.parse(lines(stdout).at(-1)!)).toEqual({ jobId: job.id, status: 'CANCELLED' });
      expect(code).toBe(6);
    },
  );
});

describe('a wrong URL', () => {
  it(
    'given a URL whose path has no GraphQL endpoint, when a command runs, then it says so and exits 2, not "unreachable"',
    { timeout: SPAWNS },
    async () => {
      const wrong = t.url.replace(/\/graphql$/, '/wrong');
      const { code, stderr } = await trialog('jobs', '--url', wrong);
      expect(stderr).toMatch(
        new RegExp(`^trialog: no GraphQL endpoint at ${wrong.replace(/[.?]/g, '\\$&')}: the server answered 404`),
      );
      expect(stderr).not.toMatch(/cannot reach/);
      expect(code).toBe(2);
    },
  );

  it("given a call that rides out anything (a worker's claim), when the path answers 404, then it is retried like a network failure", async () => {
    const client = new TrialogClient({ url: t.url.replace(/\/graphql$/, '/wrong') });
    const stop = new AbortController();
    const retriedOn: unknown[] = [];
    const onRetry = (error: unknown) => {
      retriedOn.push(error);
      stop.abort(); // one retry is the proof
    };
    await expect(
      client.ping({ signal: stop.signal, retry: { maxRetryTime: Number.POSITIVE_INFINITY, minDelay: 1, onRetry } }),
    ).rejects.toThrow();
    expect(retriedOn).toHaveLength(1);
    expect(retriedOn[0]).toBeInstanceOf(NoEndpointError);
    await client.close();
  });
});
