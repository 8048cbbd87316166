/**
 * The people commands of `trialog` as a person runs them: the real command
 * line, in its own process, against a real server. Data is made through the
 * GraphQL API, as a worker or a script would make it.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type Running } from '../helpers/cli.js';
import { APPEND_LOG, COMPLETE, FAIL, REPORT_METRICS, claim, createJob } from '../helpers/jobs.js';
import { ok, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

/** Each command is a process of its own: allow for a slow machine. */
const SPAWNS = 30_000;

let t: TestServer;
const files = tempDir('trialog-cli-');
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
  files.remove();
});

// ------------------------------------------------------------ running the command line

/** Starts `trialog ARGS` against the test server (or `url`), as a person would run it. */
const start = (args: string[], url = t.url): Running => startCli(args, { TRIALOG_URL: url, TRIALOG_KEY: '' });

const trialog = (...args: string[]) => start(args).finished;

const lines = (text: string) => text.trimEnd().split('\n');

// ------------------------------------------------------------ making data through the API

let names = 0;
const uniqueName = (prefix: string) => `${prefix}-${++names}`;

const CREATE_EXPERIMENT = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id name } }`;

async function createExperiment(input: Record<string, unknown> = {}): Promise<{ id: string; name: string }> {
  const defaults = {
    name: uniqueName('experiment'),
    scheduler: { manual: {} },
    objective: { metric: 'loss', direction: 'MINIMIZE' },
  };
  return ok(await t.gql(CREATE_EXPERIMENT, { input: { ...defaults, ...input } })).createExperiment;
}

interface Lease {
  jobId: string;
  leaseToken: string;
}

/** A job of the experiment, claimed by a worker: its lease. */
async function runningJob(experimentId: string, hyperparameters: Record<string, unknown> = {}): Promise<Lease> {
  const job = await createJob(t.gql, { experimentId, hyperparameters });
  const claimed = await claim(t.gql, { workerId: 'cli-test-worker', experimentId });
  expect(claimed?.job.id).toBe(job.id);
  return { jobId: job.id, leaseToken: claimed!.leaseToken };
}

async function appendLog(lease: Lease, lines: string[], stream: 'STDOUT' | 'STDERR' = 'STDOUT'): Promise<void> {
  ok(await t.gql(APPEND_LOG, { input: { ...lease, lines, stream } }));
}

async function complete(
  lease: Lease,
  result: Record<string, unknown>,
  artifacts: Record<string, unknown>[] = [],
): Promise<void> {
  ok(await t.gql(COMPLETE, { input: { ...lease, result, artifacts } }));
}

async function experimentStatus(id: string): Promise<string> {
  return ok(await t.gql(`query($id: ID) { experiment(id: $id) { status } }`, { id })).experiment.status;
}

/** A port nothing listens on: bound by the system, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ------------------------------------------------------------ the commands

describe('trialog jobs', () => {
  let experiment: { id: string; name: string };
  let succeeded: Lease;
  let running: Lease;

  beforeAll(async () => {
    experiment = await createExperiment();
    succeeded = await runningJob(experiment.id, { lr: 0.1, layers: 2 });
    await complete(succeeded, { loss: 0.25 });
    running = await runningJob(experiment.id, { lr: 0.01, layers: 4 });
    await createJob(t.gql, { experimentId: experiment.id, hyperparameters: { lr: 0.001, layers: 8 } });
    await createJob(t.gql, { experimentId: experiment.id, hyperparameters: { lr: 0.0001, layers: 16 } });
  });

  it(
    'given an experiment with four jobs, when `trialog jobs --experiment NAME`, then they are listed newest first',
    { timeout: SPAWNS },
    async () => {
      const { code, stdout } = await trialog('jobs', '--experiment', experiment.name);
      expect(code).toBe(0);
      const rows = lines(stdout).slice(1);
      expect(rows).toHaveLength(4);
      expect(rows[0]).toMatch(/\s+QUEUED\s+.*\{"lr":0\.0001,"layers":16\}/);
      expect(rows[3]).toMatch(new RegExp(`^${succeeded.jobId}\\s+SUCCEEDED`));
    },
  );

  it(
    'given an experiment with four jobs, when `trialog jobs --experiment NAME --sort created:asc --first 3`, then a table shows the oldest three and says how many there are',
    { timeout: SPAWNS },
    async () => {
      const { code, stdout } = await trialog(
        'jobs',
        '--experiment',
        experiment.name,
        '--sort',
        'created:asc',
        '--first',
        '3',
      );
      expect(code).toBe(0);
      const [header, ...rows] = lines(stdout);
      expect(header).toMatch(/^id\s+status\s+experiment\s+attempts\s+objective\s+hyperparameters\s+created$/);
      expect(rows).toHaveLength(4);
      expect(rows[0]).toMatch(
        new RegExp(
          `^${succeeded.jobId}\\s+SUCCEEDED\\s+${experiment.name}\\s+1/3\\s+0\\.25\\s+\\{"lr":0\\.1,"layers":2\\}`,
        ),
      );
      expect(rows[1]).toMatch(
        new RegExp(`^${running.jobId}\\s+RUNNING\\s+${experiment.name}\\s+1/3\\s+-\\s+\\{"lr":0\\.01,"layers":4\\}`),
      );
      expect(rows[2]).toMatch(/\s+QUEUED\s+.*0\/3/);
      expect(rows[3]).toBe('3 of 4 jobs');
    },
  );

  it(
    'when `trialog jobs --status running --json` (in any case), then only the running jobs are printed, as one JSON document',
    { timeout: SPAWNS },
    async () => {
      const { code, stdout } = await trialog('jobs', '--status', 'Running', '--experiment', experiment.id, '--json');
      expect(code).toBe(0);
      const printed = JSON.parse(stdout);
      expect(printed.totalCount).toBe(1);
      expect(printed.jobs).toHaveLength(1);
      expect(printed.jobs[0]).toMatchObject({
        id: running.jobId,
        status: 'RUNNING',
        hyperparameters: { lr: 0.01, layers: 4 },
      });
    },
  );

  it(
    'when `trialog jobs --status sleeping`, then it exits 2 and names the statuses there are',
    { timeout: SPAWNS },
    async () => {
      const { code, stdout, stderr } = await trialog('jobs', '--status', 'queued,sleeping');
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(
        /--status must be one of queued, running, succeeded, failed, cancelled, pruned, not "sleeping"/,
      );
    },
  );
});

describe('trialog job <id>', () => {
  it(
    'given a job that succeeded with metrics and an artifact, when `trialog job ID`, then its details are shown',
    { timeout: SPAWNS },
    async () => {
      const experiment = await createExperiment();
      const lease = await runningJob(experiment.id, { lr: 0.05 });
      ok(
        await t.gql(REPORT_METRICS, {
          input: {
            ...lease,
            points: [
              { name: 'loss', value: 0.9, step: 1 },
              { name: 'loss', value: 0.4, step: 2 },
            ],
          },
        }),
      );
      await complete(lease, { loss: 0.4 }, [{ name: 'model', uri: 's3://bucket/model.pt', sha256: 'ab12'.repeat(16) }]);

      const { code, stdout } = await trialog('job', lease.jobId);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^job\\s+${lease.jobId}$`, 'm'));
      expect(stdout).toMatch(/^status\s+SUCCEEDED$/m);
      expect(stdout).toMatch(new RegExp(`^experiment\\s+${experiment.name} \\(${experiment.id}\\)$`, 'm'));
      expect(stdout).toMatch(/^attempts\s+1 of 3$/m);
      expect(stdout).toMatch(/^worker\s+cli-test-worker$/m);
      expect(stdout).toMatch(/^hyperparameters\s+\{"lr":0\.05\}$/m);
      expect(stdout).toMatch(/^result\s+\{"loss":0\.4\}$/m);
      expect(stdout).toMatch(/^model\s+s3:\/\/bucket\/model\.pt\s+ab12ab12ab12$/m);
      expect(stdout).toMatch(/^loss\s+2\s+0\.4$/m);
    },
  );

  it('when `trialog job` names a job that does not exist, then it exits 3', { timeout: SPAWNS }, async () => {
    const { code, stderr } = await trialog('job', 'job_doesnotexist');
    expect(code).toBe(3);
    expect(stderr).toMatch(/no job job_doesnotexist/);
  });
});

describe('trialog logs', () => {
  it(
    'given a log longer than a page, with stderr lines among stdout lines, when `trialog logs ID`, then every line is printed once, in order',
    { timeout: SPAWNS },
    async () => {
      const lease = await runningJob((await createExperiment()).id);
      const first = Array.from({ length: 1200 }, (_, i) => `step ${i}`);
      const rest = Array.from({ length: 300 }, (_, i) => `step ${1200 + i}`);
      await appendLog(lease, first);
      await appendLog(lease, ['warning: loss is nan'], 'STDERR');
      await appendLog(lease, rest);

      const { code, stdout } = await trialog('logs', lease.jobId);
      expect(code).toBe(0);
      expect(lines(stdout)).toEqual([...first, 'warning: loss is nan', ...rest]);
    },
  );

  it(
    'given a long log, when the reader stops early (`trialog logs ID | head -1`), then the command ends quietly with 0',
    { timeout: SPAWNS },
    async () => {
      const lease = await runningJob((await createExperiment()).id);
      await appendLog(
        lease,
        Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(200)}`),
      );
      const run = start(['logs', lease.jobId]);
      await run.printed('line 0 ');
      run.child.stdout!.destroy(); // the pipe's reader is gone, as after `| head -1`
      const { code, stderr } = await run.finished;
      expect(code).toBe(0);
      expect(stderr).toBe('');
    },
  );

  it(
    'given a running job, when `trialog logs ID -f`, then it prints the log so far, then new lines, and exits 0 once the job ends, with its last lines',
    { timeout: SPAWNS },
    async () => {
      const lease = await runningJob((await createExperiment()).id);
      await appendLog(lease, ['epoch 1', 'epoch 2']);

      const following = start(['logs', lease.jobId, '-f']);
      await following.printed('epoch 2\n');
      await appendLog(lease, ['epoch 3']);
      await following.printed('epoch 3\n');
      // Written just before the end: they must not be lost to the job ending.
      await appendLog(lease, ['saving model', 'done']);
      await complete(lease, { loss: 0.1 });

      const { code, stdout, stderr } = await following.finished;
      // How the job ended, on stderr: stdout stays the job's log alone.
      expect(stderr).toBe(`job ${lease.jobId} SUCCEEDED\n`);
      expect(code).toBe(0);
      expect(lines(stdout)).toEqual(['epoch 1', 'epoch 2', 'epoch 3', 'saving model', 'done']);
    },
  );

  it(
    'given `trialog logs ID -f` following a running job, when Ctrl-C is pressed, then it exits 130',
    { timeout: SPAWNS },
    async () => {
      const lease = await runningJob((await createExperiment()).id);
      await appendLog(lease, ['working']);

      const following = start(['logs', lease.jobId, '--follow']);
      await following.printed('working\n');
      following.child.kill('SIGINT');
      const { code } = await following.finished;
      expect(code).toBe(130);
    },
  );
});

describe('trialog cancel', () => {
  it(
    'given a queued job, when `trialog cancel ID --reason TEXT`, then the job is cancelled',
    { timeout: SPAWNS },
    async () => {
      const job = await createJob(t.gql, { experimentId: (await createExperiment()).id });
      const { code, stdout } = await trialog('cancel', job.id, '--reason', 'wrong dataset');
      expect(code).toBe(0);
      expect(stdout).toBe(`cancelled job ${job.id}\n`);
      expect(ok(await t.gql(`query($id: ID!) { job(id: $id) { status } }`, { id: job.id })).job.status).toBe(
        'CANCELLED',
      );
    },
  );
});

describe('trialog experiment create', () => {
  it(
    'given a YAML file, when `trialog experiment create -f FILE`, then the experiment exists with those settings and its id is printed',
    { timeout: SPAWNS },
    async () => {
      const name = uniqueName('yaml-sweep');
      const file = join(files.path, 'sweep.yaml');
      writeFileSync(
        file,
        `name: ${name}
objective: { metric: val_loss, direction: MINIMIZE }
maxConcurrent: 2
scheduler:
  random:
    maxJobs: 20
    space:
      - name: lr
        distribution: { logUniform: { low: 1.0e-5, high: 1.0e-1 } }
`,
      );
      const { code, stdout } = await trialog('experiment', 'create', '-f', file);
      expect(code).toBe(0);
      const id = /^created experiment (\S+) \((.+)\)$/.exec(stdout.trim());
      expect(id?.[2]).toBe(name);
      const created = ok(
        await t.gql(
          `query($id: ID) { experiment(id: $id) { name scheduler maxJobs maxConcurrent objective { metric direction } } }`,
          { id: id![1] },
        ),
      ).experiment;
      expect(created).toEqual({
        name,
        scheduler: 'RANDOM',
        maxJobs: 20,
        maxConcurrent: 2,
        objective: { metric: 'val_loss', direction: 'MINIMIZE' },
      });
    },
  );

  it(
    'given a JSON file, when `trialog experiment create -f FILE --json`, then the new experiment is printed as JSON',
    { timeout: SPAWNS },
    async () => {
      const name = uniqueName('json-manual');
      const file = join(files.path, 'manual.json');
      writeFileSync(file, JSON.stringify({ name, description: 'by hand', scheduler: { manual: { maxJobs: 3 } } }));
      const { code, stdout } = await trialog('experiment', 'create', '-f', file, '--json');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({
        name,
        description: 'by hand',
        scheduler: 'MANUAL',
        maxJobs: 3,
        status: 'RUNNING',
      });
    },
  );

  it(
    "given a file that is not valid YAML, when `trialog experiment create -f FILE`, then it exits 2 with the parser's message",
    { timeout: SPAWNS },
    async () => {
      const file = join(files.path, 'broken.yaml');
      writeFileSync(file, 'name: broken\nscheduler: { manual: {}\n');
      const { code, stderr } = await trialog('experiment', 'create', '-f', file);
      expect(code).toBe(2);
      expect(stderr).toMatch(/cannot parse .*broken\.yaml as YAML: .*line \d+/);
    },
  );

  it(
    'given an experiment of that name exists, when `trialog experiment create -f FILE`, then it exits 1 saying so',
    { timeout: SPAWNS },
    async () => {
      const { name } = await createExperiment();
      const file = join(files.path, 'taken.json');
      writeFileSync(file, JSON.stringify({ name, scheduler: { manual: {} } }));
      const { code, stderr } = await trialog('experiment', 'create', '-f', file);
      expect(code).toBe(1);
      expect(stderr).toMatch(new RegExp(`trialog: .*"${name}" exists already`));
    },
  );
});

describe('trialog experiment show', () => {
  it(
    'given a MINIMIZE experiment with finished jobs, when `trialog experiment show NAME --top 2`, then the lowest objective values lead, one column per hyperparameter',
    { timeout: SPAWNS },
    async () => {
      const experiment = await createExperiment();
      const jobs: Record<string, Lease> = {};
      for (const [label, loss, lr] of [
        ['middle', 0.5, 0.1],
        ['best', 0.2, 0.01],
        ['worst', 0.9, 0.3],
      ] as const) {
        jobs[label] = await runningJob(experiment.id, { lr, optimizer: 'adam' });
        await complete(jobs[label], { loss });
      }
      const failed = await runningJob(experiment.id, { lr: 1, optimizer: 'sgd' });
      ok(await t.gql(FAIL, { input: { ...failed, error: 'diverged', retry: false } }));

      const { code, stdout } = await trialog('experiment', 'show', experiment.name, '--top', '2');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^status\s+RUNNING$/m);
      expect(stdout).toMatch(/^objective\s+min loss$/m);
      expect(stdout).toMatch(/^jobs\s+4: 0 queued, 0 running, 3 succeeded, 1 failed, 0 pruned, 0 cancelled$/m);
      expect(stdout).toMatch(new RegExp(`^best\\s+0\\.2 \\(job ${jobs.best!.jobId}\\)$`, 'm'));
      const leaderboard = lines(stdout.split('leaderboard:\n')[1]!);
      expect(leaderboard[0]).toMatch(/^rank\s+job\s+status\s+objective\s+lr\s+optimizer$/);
      expect(leaderboard.slice(1)).toHaveLength(2);
      expect(leaderboard[1]).toMatch(
        new RegExp(`^\\s*1\\s+${jobs.best!.jobId}\\s+SUCCEEDED\\s+0\\.2\\s+0\\.01\\s+adam$`),
      );
      expect(leaderboard[2]).toMatch(
        new RegExp(`^\\s*2\\s+${jobs.middle!.jobId}\\s+SUCCEEDED\\s+0\\.5\\s+0\\.1\\s+adam$`),
      );
    },
  );
});

describe('trialog experiment pause, trialog experiments', () => {
  it(
    'given a running experiment, when `trialog experiment pause NAME`, then it is paused',
    { timeout: SPAWNS },
    async () => {
      const experiment = await createExperiment();
      const { code, stdout } = await trialog('experiment', 'pause', experiment.name);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^paused experiment ${experiment.name} \\(${experiment.id}\\)`));
      expect(await experimentStatus(experiment.id)).toBe('PAUSED');
    },
  );

  it(
    'given a finished and a running experiment, when `trialog experiments --status done --json`, then only the finished one is listed',
    { timeout: SPAWNS },
    async () => {
      const finished = await createExperiment();
      const running = await createExperiment();
      ok(
        await t.gql(`mutation($id: ID!) { finishExperiment(input: { experimentId: $id }) { status } }`, {
          id: finished.id,
        }),
      );
      const { code, stdout } = await trialog('experiments', '--status', 'done', '--json');
      expect(code).toBe(0);
      const listed = JSON.parse(stdout) as { id: string; status: string }[];
      expect(listed.map((e) => e.id)).toContain(finished.id);
      expect(listed.map((e) => e.id)).not.toContain(running.id);
      expect(listed.every((e) => e.status === 'DONE')).toBe(true);
    },
  );
});

describe('trialog watch', () => {
  it(
    'given a running experiment, when `trialog watch NAME` runs while a job succeeds and the experiment is finished, then it prints a line per change and exits 0',
    { timeout: SPAWNS },
    async () => {
      const experiment = await createExperiment();
      await createJob(t.gql, { experimentId: experiment.id, hyperparameters: { lr: 0.1 } });

      const watching = start(['watch', experiment.name]);
      await watching.printed('queued 1  running 0  succeeded 0');
      const lease = (await claim(t.gql, { workerId: 'cli-test-worker', experimentId: experiment.id }))!;
      await complete({ jobId: lease.job.id, leaseToken: lease.leaseToken }, { loss: 0.3 });
      await watching.printed(`succeeded 1  failed 0  pruned 0  cancelled 0  best 0.3 (job ${lease.job.id})`);
      // One job left queued: finishing cancels it, and the last line shows that.
      await createJob(t.gql, { experimentId: experiment.id, hyperparameters: { lr: 0.2 } });
      ok(
        await t.gql(`mutation($id: ID!) { finishExperiment(input: { experimentId: $id }) { status } }`, {
          id: experiment.id,
        }),
      );

      const { code, stdout } = await watching.finished;
      expect(code).toBe(0);
      const printed = lines(stdout);
      // Each line: the time, then columns two spaces apart.
      const withoutTime = (line: string | undefined) => {
        expect(line).toMatch(/^\d\d:\d\d:\d\d /);
        return line!.slice('hh:mm:ss  '.length);
      };
      expect(withoutTime(printed[0])).toBe(
        'RUNNING  queued 1  running 0  succeeded 0  failed 0  pruned 0  cancelled 0',
      );
      const done = 'DONE     queued 0  running 0  succeeded 1  failed 0  pruned 0  cancelled 1  best 0.3';
      expect(withoutTime(printed.at(-1)).slice(0, done.length)).toBe(done);
    },
  );
});

describe('usage errors', () => {
  it(
    'given an empty id or a URL that is not one, then exit 2 at once, saying what is wrong',
    { timeout: SPAWNS },
    async () => {
      const empty = await trialog('cancel', '');
      expect(empty.code).toBe(2);
      expect(empty.stderr).toMatch(/must be 1 to 256 characters/);
      const badUrl = await trialog('jobs', '--url', 'notaurl');
      expect(badUrl.code).toBe(2);
      expect(badUrl.stderr).toMatch(/--url must be an http\(s\) URL/);
    },
  );
});

describe('an unreachable server', () => {
  it(
    'given nothing listens at --url, when `trialog jobs --url URL`, then it gives up after a few seconds and exits 4',
    { timeout: SPAWNS },
    async () => {
      const url = `http://127.0.0.1:${await closedPort()}/graphql`;
      const { code, stderr } = await trialog('jobs', '--url', url);
      expect(code).toBe(4);
      expect(stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+\/graphql/);
    },
  );
});
