/**
 * `trialog worker` as a user runs it: a separate process, a real server, real
 * training commands (Python, standard library only) in their own process
 * groups. Given a server with work, when the worker runs, then the jobs end as
 * their commands (or the server) decided, with everything they said recorded.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { bracketBudgets, bracketCount, bracketOf } from '../../src/domain/experiment/hyperband.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { freePort, gqlClient, ok, startTestServer, tempDir, type Gql, type TestServer } from '../helpers/server.js';
import {
  BEHAVE_SCRIPT,
  EXAMPLE_SCRIPT,
  PYTHON,
  alive,
  eventually,
  startWorker,
  type WorkerProcess,
} from '../helpers/worker.js';

const CREATE_EXPERIMENT = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id name } }`;
const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`;
const JOB = `query($id: ID!) {
  job(id: $id) {
    id status attempts maxAttempts error workerId leaseExpiresAt hyperparameters result
    artifacts { name uri sha256 }
    metrics { name points { step value } }
    logs(first: 1000) { edges { node { offset stream text } } }
  }
}`;
const EXPERIMENT_JOBS = `query($id: ID!) {
  experiment(id: $id) { status jobCounts { total succeeded failed pruned running queued } jobs(first: 100) { edges { node { id status } } } }
}`;

interface JobView {
  id: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  error: string | null;
  workerId: string | null;
  leaseExpiresAt: string | null;
  hyperparameters: Record<string, unknown>;
  result: Record<string, unknown> | null;
  artifacts: { name: string; uri: string; sha256: string | null }[];
  metrics: { name: string; points: { step: number; value: number }[] }[];
  logs: { edges: { node: { offset: number; stream: string; text: string } }[] };
}

const job = async (gql: Gql, id: string) => ok(await gql<{ job: JobView }>(JOB, { id })).job;
const logText = (view: JobView) => view.logs.edges.map((e) => e.node.text);
const createJob = async (gql: Gql, input: Record<string, unknown>) =>
  ok(await gql<{ createJob: { id: string } }>(CREATE_JOB, { input })).createJob.id;
/** The run directory of the job's current attempt (one per claim: attempt-N-<claim>). */
const runDirOf = (view: JobView, workDir: string): string => {
  const runs = readdirSync(join(workDir, view.id)).filter((d) => d.startsWith(`attempt-${view.attempts}-`));
  expect(runs).toHaveLength(1);
  return join(workDir, view.id, runs[0]!);
};
const pidsOf = (view: JobView, workDir: string): number[] =>
  JSON.parse(readFileSync(join(runDirOf(view, workDir), 'output', 'pids'), 'utf8')) as number[];

let t: TestServer;
let dir: { path: string; remove(): void };
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.stop();
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      w.child.kill('SIGKILL');
      await w.exit;
    }
  }
  dir?.remove();
});

function worker(url: string, args: string[], command: string[]): WorkerProcess {
  dir = tempDir('trialog-worker-');
  // No command: no "--" either (a pool worker runs each experiment's own).
  const separated = command.length > 0 ? ['--', ...command] : [];
  const w = startWorker(url, ['--work-dir', join(dir.path, 'runs'), ...args, ...separated], { cwd: dir.path });
  workers.push(w);
  return w;
}

describe('running a search', () => {
  it('given a random search, when a worker with two slots runs the Python example, then every job succeeds with its logs, metrics, result and artifacts', async () => {
    const name = 'worker-random-search';
    const { id } = ok(
      await t.gql(CREATE_EXPERIMENT, {
        input: {
          name,
          objective: { metric: 'loss', direction: 'MINIMIZE' },
          scheduler: {
            random: {
              seed: 3,
              maxJobs: 5,
              space: [
                { name: 'lr', distribution: { logUniform: { low: 0.001, high: 0.3 } } },
                { name: 'layers', distribution: { intUniform: { low: 1, high: 4 } } },
              ],
            },
          },
        },
      }),
    ).createExperiment;

    const w = worker(
      t.url,
      ['--experiment', name, '--slots', '2'],
      [PYTHON, EXAMPLE_SCRIPT, '--epochs', '8', '--epoch-seconds', '0.02'],
    );
    expect(await w.exit).toBe(0);
    expect(w.output()).toMatch(/stopped \(experiment-done\): 5 succeeded, 0 failed/);

    const experiment = ok(await t.gql(EXPERIMENT_JOBS, { id })).experiment;
    expect(experiment.status).toBe('DONE');
    expect(experiment.jobCounts).toMatchObject({ total: 5, succeeded: 5 });
    for (const { node } of experiment.jobs.edges) {
      const view = await job(t.gql, node.id);
      // The hyperparameters reached the script as arguments.
      const lines = logText(view);
      expect(lines[0]).toBe(
        `training lr=${String(view.hyperparameters.lr)} layers=${String(view.hyperparameters.layers)} dropout=0.1 for 8 epochs`,
      );
      expect(lines).toHaveLength(1 + 8 + 1); // the banner, one line per epoch, "done"; no metric or progress lines
      expect(view.logs.edges.map((e) => e.node.offset)).toEqual([...Array(10).keys()]);
      const loss = view.metrics.find((m) => m.name === 'loss')!;
      expect(loss.points.map((p) => p.step)).toEqual([...Array(8).keys()]);
      expect(view.result).toMatchObject({ epochs: 8, loss: loss.points.at(-1)!.value });
      expect(view.artifacts.map((a) => a.name)).toEqual(['checkpoint.json', 'result.json']);
      for (const artifact of view.artifacts) {
        const bytes = readFileSync(fileURLToPath(artifact.uri));
        expect(artifact.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      }
    }
  });
});

describe('running the TPE example', () => {
  it('given examples/tpe.yaml, when a worker with two slots runs the Python example, then ten random trials come first, TPE proposes the rest with its decision on record, and the search ends DONE', async () => {
    const example = parseYaml(readFileSync(new URL('../../examples/tpe.yaml', import.meta.url), 'utf8'));
    const name = 'worker-tpe-example';
    // The example with fewer trials: past the ten random ones, four proposed by TPE.
    example.name = name;
    example.scheduler.tpe.maxJobs = 14;
    const { id } = ok(await t.gql(CREATE_EXPERIMENT, { input: example })).createExperiment;

    const w = worker(
      t.url,
      ['--experiment', name, '--slots', '2'],
      [PYTHON, EXAMPLE_SCRIPT, '--epochs', '8', '--epoch-seconds', '0.02'],
    );
    expect(await w.exit).toBe(0);
    expect(w.output()).toMatch(/stopped \(experiment-done\)/);

    const experiment = ok(await t.gql(EXPERIMENT_JOBS, { id })).experiment;
    expect(experiment.status).toBe('DONE');
    expect(experiment.jobCounts.total).toBe(14);
    expect(experiment.jobCounts.succeeded + experiment.jobCounts.pruned).toBe(14);
    const created = ok(
      await t.gql(
        `query($id: ID!) { experiment(id: $id) { jobs(first: 100) { edges { node { hyperparameters status pruning { rule } history(first: 1) { edges { node { data } } } } } } } }`,
        { id },
      ),
    ).experiment.jobs.edges.map(
      (e: {
        node: {
          hyperparameters: Record<string, number>;
          status: string;
          pruning: { rule: string } | null;
          history: any;
        };
      }) => ({
        ...e.node.history.edges[0].node.data,
        hyperparameters: e.node.hyperparameters,
        status: e.node.status,
        pruning: e.node.pruning,
      }),
    );
    // The example stops early with the median rule.
    for (const trial of created.filter((c: { status: string }) => c.status === 'PRUNED')) {
      expect(trial.pruning.rule).toBe('median');
    }
    const bySlot = created.sort((a: { trialIndex: number }, b: { trialIndex: number }) => a.trialIndex - b.trialIndex);
    const modes = bySlot.map((c: { decision: { mode: string } }) => c.decision.mode);
    expect(modes.slice(0, 10)).toEqual(Array(10).fill('STARTUP'));
    expect(modes).toContain('TPE');
    for (const { hyperparameters: h } of bySlot) {
      expect(Number.isInteger(h.layers) && h.layers >= 1 && h.layers <= 4).toBe(true);
      expect(Math.abs(h.dropout! * 20 - Math.round(h.dropout! * 20))).toBeLessThan(1e-9);
    }
  });
});

describe('Hyperband with trialog worker', () => {
  it('given examples/hyperband.yaml, when a worker with two slots runs the Python example, then trials are pruned by their bracket with the rung on record, and the search ends DONE', async () => {
    const example = parseYaml(readFileSync(new URL('../../examples/hyperband.yaml', import.meta.url), 'utf8'));
    const name = 'worker-hyperband-example';
    example.name = name;
    example.scheduler.random.maxJobs = 18;
    const { id } = ok(await t.gql(CREATE_EXPERIMENT, { input: example })).createExperiment;

    const w = worker(
      t.url,
      ['--experiment', name, '--slots', '2'],
      [PYTHON, EXAMPLE_SCRIPT, '--epochs', '9', '--epoch-seconds', '0.02'],
    );
    expect(await w.exit).toBe(0);
    expect(w.output()).toMatch(/stopped \(experiment-done\)/);

    const experiment = ok(await t.gql(EXPERIMENT_JOBS, { id })).experiment;
    expect(experiment.status).toBe('DONE');
    expect(experiment.jobCounts.total).toBe(18);
    expect(experiment.jobCounts.succeeded + experiment.jobCounts.pruned).toBe(18);
    const pruned = ok(
      await t.gql(
        `query($id: ID!) { experiment(id: $id) { jobs(first: 100, status: [PRUNED]) { edges { node {
           trialIndex pruning { rule step rung bracket } metrics(names: ["loss"]) { lastStep } } } } } }`,
        { id },
      ),
    ).experiment.jobs.edges.map((e: { node: any }) => e.node);
    // Eighteen trials over three brackets: some are pruned at a rung of theirs, none in the last bracket (no rung below 9).
    expect(pruned.length).toBeGreaterThan(0);
    const budgets = bracketBudgets(bracketCount(1, 9, 3), 3);
    for (const job of pruned) {
      expect(job.pruning).toMatchObject({ rule: 'hyperband', bracket: bracketOf(name, job.trialIndex, budgets) });
      expect(job.pruning.bracket).toBeLessThan(2);
      // Pruned at the step it was judged on, so it ran no further.
      expect(job.metrics[0].lastStep).toBe(job.pruning.step);
    }
  });
});

describe('one worker pool for every search', () => {
  it("given two experiments carrying their commands, when a worker runs with neither --experiment nor a command, then it runs both searches, each trial with its own experiment's command", async () => {
    const create = async (name: string, epochs: number) =>
      ok(
        await t.gql(CREATE_EXPERIMENT, {
          input: {
            name,
            objective: { metric: 'loss', direction: 'MINIMIZE' },
            scheduler: {
              random: {
                seed: 4,
                maxJobs: 2,
                space: [{ name: 'lr', distribution: { logUniform: { low: 0.001, high: 0.3 } } }],
              },
            },
            command: [PYTHON, EXAMPLE_SCRIPT, '--epochs', String(epochs), '--epoch-seconds', '0.01'],
          },
        }),
      ).createExperiment as { id: string };
    const first = await create('pool-first', 3);
    const second = await create('pool-second', 5);

    const w = worker(t.url, ['--slots', '2', '--max-jobs', '4'], []);
    expect(await w.exit).toBe(0);
    expect(w.output()).toMatch(/every running experiment's own command/);
    for (const [experiment, epochs] of [
      [first, 3],
      [second, 5],
    ] as const) {
      const view = ok(await t.gql(EXPERIMENT_JOBS, { id: experiment.id })).experiment;
      expect(view.status).toBe('DONE');
      expect(view.jobCounts).toMatchObject({ total: 2, succeeded: 2 });
      for (const { node } of view.jobs.edges) {
        expect(logText(await job(t.gql, node.id))[0]).toMatch(new RegExp(`for ${epochs} epochs$`));
      }
    }
  });
});

describe('what the command receives and reports', () => {
  it('given hyperparameters, when run with a custom prefix and delimiter, then the command gets them as arguments and every TRIALOG_ variable', async () => {
    const id = await createJob(t.gql, {
      hyperparameters: { lr: 0.01, arch: 'resnet', layers: [64, 32], bn: true },
      params: { mode: 'echo' },
      labels: ['echo'],
    });
    const w = worker(
      t.url,
      ['--labels', 'echo', '--max-jobs', '1', '--hparam-prefix', '-', '--hparam-delimiter', '='],
      [PYTHON, BEHAVE_SCRIPT, '--fixed'],
    );
    expect(await w.exit).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    const { argv, env } = view.result as { argv: string[]; env: Record<string, string> };
    expect(argv).toEqual(['--fixed', '-lr=0.01', '-arch=resnet', '-layers=[64,32]', '-bn=true']);
    expect(env.TRIALOG_JOB_ID).toBe(id);
    expect(env.TRIALOG_ATTEMPT).toBe('1');
    expect(env.TRIALOG_SLOT).toBe('0');
    expect(JSON.parse(env.TRIALOG_HPARAMS!)).toEqual(view.hyperparameters);
    expect(JSON.parse(env.TRIALOG_PARAMS!)).toEqual({ mode: 'echo' });
    const runDir = runDirOf(view, join(dir.path, 'runs'));
    expect(runDir).toMatch(/attempt-1-[0-9a-f]{8}$/);
    expect(env.TRIALOG_OUTPUT_DIR).toBe(join(runDir, 'output'));
    expect(env.TRIALOG_METRICS_FILE).toBe(join(runDir, 'metrics.jsonl'));
    expect(env.TRIALOG_CHECKPOINT_FROM).toBe('');
    expect(view.artifacts.map((a) => a.name)).toEqual(['nested/weights.bin', 'result.json']);
    expect(view.artifacts[0]!.sha256).toBe(
      createHash('sha256').update(Buffer.from('\x00\x01\x02trialog', 'latin1')).digest('hex'),
    );
  });

  it('given a command reporting through the metrics file and stdout, then valid points are reported and invalid lines stay in the log with the reason', async () => {
    const id = await createJob(t.gql, { params: { mode: 'metrics-file' }, labels: ['metrics-file'] });
    const w = worker(t.url, ['--labels', 'metrics-file', '--max-jobs', '1'], [PYTHON, BEHAVE_SCRIPT]);
    expect(await w.exit).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    const series = Object.fromEntries(view.metrics.map((m) => [m.name, m.points]));
    expect(series.val_loss).toEqual([
      { step: 0, value: 1 },
      { step: 1, value: 0.5 },
      { step: 2, value: 1 / 3 },
    ]);
    expect(series.val_acc).toEqual([
      { step: 0, value: 0.5 },
      { step: 1, value: 0.75 },
    ]);
    expect(series.loss).toEqual([{ step: 0, value: 0.5 }]);
    const lines = logText(view);
    expect(lines).toContain('plain line');
    expect(lines).toContain(
      'TRIALOG_METRIC {"name": "loss", "value": "high"}  [trialog worker: not reported: metric loss: value must be a finite number]',
    );
    expect(lines).toContain('[trialog worker] metrics file line not reported (not JSON): not json');
  });
});

describe('a crashing command', () => {
  it('given a job with two attempts, when its command exits 3 each time, then it ends FAILED after both, with the exit code and the tail of stderr', async () => {
    const id = await createJob(t.gql, { params: { mode: 'crash', code: 3 }, labels: ['crash'], maxAttempts: 2 });
    const w = worker(t.url, ['--labels', 'crash', '--max-jobs', '2'], [PYTHON, BEHAVE_SCRIPT]);
    expect(await w.exit).toBe(0);
    expect(w.output()).toMatch(/failed \(queued again\): the command exited with code 3/);
    const view = await job(t.gql, id);
    expect(view).toMatchObject({ status: 'FAILED', attempts: 2 });
    expect(view.error).toMatch(/^the command exited with code 3\n--- last lines of stderr ---\n/);
    expect(view.error).toMatch(/stderr line 39\nTraceback: ValueError: the data is bad$/);
    expect(view.error).not.toMatch(/stderr line 0\n/); // only the tail
    // stderr is in the log too, marked as such, from both attempts.
    expect(view.logs.edges.filter((e) => e.node.stream === 'STDERR')).toHaveLength(2 * 41);
  });

  it('given a command that does not exist, then the job fails saying it could not start', async () => {
    const id = await createJob(t.gql, { labels: ['missing'], maxAttempts: 1 });
    const w = worker(t.url, ['--labels', 'missing', '--max-jobs', '1'], ['/nonexistent/trainer']);
    expect(await w.exit).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatch(/could not start: .*ENOENT/);
  });
});

describe('outputs at and over the limits', () => {
  it('given a command printing 201 lines of 60 KiB, then every line is recorded (batches stay under the 4 MiB per call)', async () => {
    const id = await createJob(t.gql, {
      params: { mode: 'big-lines', lines: 201, bytes: 60 * 1024 - 10 },
      labels: ['big-lines'],
    });
    const w = worker(t.url, ['--labels', 'big-lines', '--max-jobs', '1'], [PYTHON, BEHAVE_SCRIPT]);
    expect(await w.exit).toBe(0);
    const view = ok(
      await t.gql(`query($id: ID!) { job(id: $id) { status logs(first: 1000) { edges { node { offset text } } } } }`, {
        id,
      }),
    ).job;
    expect(view.status).toBe('SUCCEEDED');
    expect(view.logs.edges.map((e: { node: { text: string } }) => e.node.text.slice(0, 5))).toEqual(
      Array.from({ length: 201 }, (_, i) => String(i).padStart(5, '0')),
    );
  });

  it('given a result.json over the result limit, then the job fails saying so, and the worker goes on to the next job', async () => {
    const id = await createJob(t.gql, {
      params: { mode: 'big-result', bytes: 300 * 1024 },
      labels: ['big-result'],
      maxAttempts: 1,
    });
    const next = await createJob(t.gql, { params: { mode: 'echo' }, labels: ['big-result'], priority: -1 });
    const w = worker(t.url, ['--labels', 'big-result', '--max-jobs', '2'], [PYTHON, BEHAVE_SCRIPT]);
    expect(await w.exit).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatch(/result\.json is \d+ bytes; the server takes at most 262144/);
    expect((await job(t.gql, next)).status).toBe('SUCCEEDED');
  });

  it('given a command that leaves a helper holding its stdout in another session, then the job still completes', async () => {
    const id = await createJob(t.gql, { params: { mode: 'leaves-helper' }, labels: ['helper'] });
    const w = worker(t.url, ['--labels', 'helper', '--max-jobs', '1'], [PYTHON, BEHAVE_SCRIPT]);
    expect(await w.exit).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    process.kill((view.result as { helper: number }).helper, 'SIGKILL');
  });

  it('given a command writing 8 MiB with no newline, then the worker keeps one cut line of it and goes on', async () => {
    const id = await createJob(t.gql, { params: { mode: 'no-newline', mib: 8 }, labels: ['no-newline'] });
    const w = worker(t.url, ['--labels', 'no-newline', '--max-jobs', '1'], [PYTHON, BEHAVE_SCRIPT]);
    expect(await w.exit).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    const lines = logText(view);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^a+… \[line cut by the worker: longer than \d+ bytes\]$/);
    expect(lines[1]).toBe('after');
  });

  it('given a command that exited 0 while a helper still holds its output, when the worker is stopped then, then the job still completes (not released)', async () => {
    const id = await createJob(t.gql, { params: { mode: 'leaves-helper' }, labels: ['helper-stop'] });
    const w = worker(t.url, ['--labels', 'helper-stop'], [PYTHON, BEHAVE_SCRIPT]);
    await eventually(async () => logText(await job(t.gql, id)).includes('helper started'));
    w.child.kill('SIGINT');
    expect(await w.exit).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    process.kill((view.result as { helper: number }).helper, 'SIGKILL');
  });

  it('given a work directory that cannot be made, then the claimed job is handed back and the worker stops with exit 1', async () => {
    const id = await createJob(t.gql, { params: { mode: 'echo' }, labels: ['no-room'] });
    dir = tempDir('trialog-worker-');
    const blocker = join(dir.path, 'not-a-directory');
    writeFileSync(blocker, '');
    const w = startWorker(t.url, ['--work-dir', blocker, '--labels', 'no-room', '--', PYTHON, BEHAVE_SCRIPT], {
      cwd: dir.path,
    });
    workers.push(w);
    expect(await w.exit).toBe(1);
    expect(w.output()).toMatch(/cannot prepare the job's output directory/);
    expect(await job(t.gql, id)).toMatchObject({ status: 'QUEUED', attempts: 0 });
  });
});

describe('stopping a command the server no longer wants', () => {
  it('given a command that ignores SIGTERM and has a child of its own, when its job is cancelled, then both are killed after the grace period and the worker goes on', async () => {
    const id = await createJob(t.gql, { params: { mode: 'stubborn' }, labels: ['stubborn'] });
    const next = await createJob(t.gql, { params: { mode: 'echo' }, labels: ['stubborn'], priority: -1 });
    const w = worker(t.url, ['--labels', 'stubborn', '--grace', '1', '--max-jobs', '2'], [PYTHON, BEHAVE_SCRIPT]);
    await eventually(async () => logText(await job(t.gql, id)).includes('ready'));
    const [pid, grandchild] = pidsOf(await job(t.gql, id), join(dir.path, 'runs'));
    expect(alive(pid!) && alive(grandchild!)).toBe(true);

    ok(await t.gql(`mutation($id: ID!) { cancelJob(input: { jobId: $id, reason: "enough" }) { status } }`, { id }));
    await w.waitForOutput(new RegExp(`job ${id}: stopped \\(cancelled\\); the command was killed by SIGKILL`));
    expect(alive(pid!)).toBe(false);
    await eventually(() => !alive(grandchild!));
    expect((await job(t.gql, id)).status).toBe('CANCELLED');

    expect(await w.exit).toBe(0);
    expect((await job(t.gql, next)).status).toBe('SUCCEEDED');
  });

  it('given an experiment with median stopping, when a job reports losses far above the median, then it is pruned and its command stopped with SIGTERM', async () => {
    const name = 'worker-prune';
    const { id: experimentId } = ok(
      await t.gql(CREATE_EXPERIMENT, {
        input: {
          name,
          objective: { metric: 'loss', direction: 'MINIMIZE' },
          scheduler: { manual: {} },
          earlyStopping: { median: { startupJobs: 1, warmupSteps: 2 } },
        },
      }),
    ).createExperiment;
    // A finished job, run by hand, sets the median: loss 0.1 at every step.
    const good = await createJob(t.gql, { experimentId, labels: ['prune-good'] });
    const bad = await createJob(t.gql, { experimentId, params: { mode: 'slow', loss: 10 }, labels: ['prune-bad'] });
    const claim = ok(
      await t.gql(
        `mutation($e: ID!) { claimJob(input: { workerId: "hand", experimentId: $e, labels: ["prune-good"] }) { leaseToken job { id } } }`,
        {
          e: experimentId,
        },
      ),
    ).claimJob;
    expect(claim.job.id).toBe(good);
    const lease = { jobId: good, leaseToken: claim.leaseToken };
    const points = Array.from({ length: 10 }, (_, step) => ({ name: 'loss', value: 0.1, step }));
    ok(
      await t.gql(`mutation($input: ReportMetricsInput!) { reportMetrics(input: $input) { shouldStop } }`, {
        input: { ...lease, points },
      }),
    );
    ok(await t.gql(`mutation($input: CompleteJobInput!) { completeJob(input: $input) { status } }`, { input: lease }));

    const second = worker(
      t.url,
      ['--experiment', name, '--labels', 'prune-bad', '--max-jobs', '1', '--grace', '30'],
      [PYTHON, BEHAVE_SCRIPT],
    );
    await second.waitForOutput(
      new RegExp(`job ${bad}: stopped \\(pruned\\); the command exited with code 143`),
      20_000,
    );
    expect(await second.exit).toBe(0);
    const view = await job(t.gql, bad);
    expect(view.status).toBe('PRUNED');
    // After the prune the job is no longer the worker's to report on: what the command said while stopping is not in its log.
    expect(logText(view)).not.toContain('got SIGTERM');
  });
});

describe('stopping the worker', () => {
  it('given two running jobs, when the worker gets SIGINT, then their commands stop and both jobs are queued again with no lease and no attempt used', async () => {
    const ids = [
      await createJob(t.gql, { params: { mode: 'slow' }, labels: ['sigint'] }),
      await createJob(t.gql, { params: { mode: 'slow' }, labels: ['sigint'] }),
    ];
    const w = worker(t.url, ['--labels', 'sigint', '--slots', '2', '--grace', '5'], [PYTHON, BEHAVE_SCRIPT]);
    for (const id of ids) await eventually(async () => logText(await job(t.gql, id)).includes('ready'));
    const pids = await Promise.all(ids.map(async (id) => pidsOf(await job(t.gql, id), join(dir.path, 'runs'))[0]!));

    w.child.kill('SIGINT');
    expect(await w.exit).toBe(0);
    expect(w.output()).toMatch(/stopped \(signal\): 0 succeeded, 0 failed, 2 released/);
    for (const id of ids) {
      const view = await job(t.gql, id);
      expect(view).toMatchObject({ status: 'QUEUED', attempts: 0, leaseExpiresAt: null });
      expect(logText(view)).toContain('got SIGTERM'); // what it said while stopping was reported before the release
    }
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });

  it('given a command that ignores SIGTERM, when the worker gets SIGINT twice, then the command is killed at once and the worker exits 130', async () => {
    const id = await createJob(t.gql, { params: { mode: 'stubborn' }, labels: ['twice'] });
    const w = worker(t.url, ['--labels', 'twice', '--grace', '600'], [PYTHON, BEHAVE_SCRIPT]);
    await eventually(async () => logText(await job(t.gql, id)).includes('ready'));
    const [pid] = pidsOf(await job(t.gql, id), join(dir.path, 'runs'));
    w.child.kill('SIGINT');
    await w.waitForOutput(/SIGINT: releasing 1 running job/);
    w.child.kill('SIGINT');
    expect(await w.exit).toBe(130);
    expect(alive(pid!)).toBe(false);
  });
});

describe('a server that requires keys', () => {
  it('given a worker key, when the worker runs with --key, then it claims, reports over HTTP, hears cancels over the WebSocket, and ends the job; with a viewer key it exits 1', async () => {
    const ADMIN = 'admin-key-for-the-worker-test-0123456789abcdef';
    const secured = await startTestServer({ adminKey: ADMIN });
    try {
      const as = (key: string) => (query: string, variables?: Record<string, unknown>) =>
        secured.gql(query, variables, { authorization: `Bearer ${key}` });
      const admin = as(ADMIN);
      const keyOf = async (role: string) =>
        ok(
          await admin(
            `mutation($n: String!, $r: ApiKeyRole!) { createApiKey(input: { name: $n, role: $r }) { key } }`,
            { n: `${role}-w`, r: role },
          ),
        ).createApiKey.key as string;
      const [workerKey, viewerKey] = [await keyOf('WORKER'), await keyOf('VIEWER')];
      const done = ok(await admin(CREATE_JOB, { input: { params: { mode: 'echo' }, labels: ['keyed'] } })).createJob
        .id as string;
      const slow = ok(await admin(CREATE_JOB, { input: { params: { mode: 'slow' }, labels: ['keyed'], priority: -1 } }))
        .createJob.id as string;

      const refused = worker(secured.url, ['--key', viewerKey, '--labels', 'keyed'], [PYTHON, BEHAVE_SCRIPT]);
      expect(await refused.exit).toBe(1);
      expect(refused.output()).toMatch(/cannot claim: .*(FORBIDDEN|not allowed|may not)/i);

      const w = worker(
        secured.url,
        ['--key', workerKey, '--labels', 'keyed', '--max-jobs', '2', '--grace', '5'],
        [PYTHON, BEHAVE_SCRIPT],
      );
      await eventually(
        async () =>
          ok(await admin(`query($id: ID!) { job(id: $id) { logs { edges { node { text } } } } }`, { id: slow })).job
            .logs.edges.length > 0,
      );
      ok(await admin(`mutation($id: ID!) { cancelJob(input: { jobId: $id }) { status } }`, { id: slow }));
      expect(await w.exit).toBe(0);
      expect(w.output()).toMatch(new RegExp(`job ${slow}: stopped \\(cancelled\\); the command exited with code 143`));
      expect(ok(await admin(`query($id: ID!) { job(id: $id) { status } }`, { id: done })).job.status).toBe('SUCCEEDED');
    } finally {
      await secured.stop();
    }
  });
});

describe('losing the server', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => {
    await server?.kill('SIGKILL');
  });

  it('given a search running, when the server is killed and started again on the same store, then the worker carries on and no report is lost or doubled', async () => {
    const db = tempDir('trialog-restart-');
    try {
      const port = await freePort();
      const dbPath = join(db.path, 'trialog.db');
      server = await startServerProcess(dbPath, { PORT: String(port) });
      const gql = gqlClient(server.url);
      const name = 'worker-restart';
      const { id } = ok(
        await gql(CREATE_EXPERIMENT, {
          input: {
            name,
            scheduler: {
              random: {
                seed: 1,
                maxJobs: 4,
                space: [{ name: 'lr', distribution: { uniform: { low: 0.01, high: 0.1 } } }],
              },
            },
          },
        }),
      ).createExperiment;
      const epochs = 40;
      const w = worker(
        server.url,
        ['--experiment', name, '--lease', '30'],
        [PYTHON, EXAMPLE_SCRIPT, '--epochs', String(epochs), '--epoch-seconds', '0.05'],
      );
      await w.waitForOutput(/succeeded/); // one job done; the next one is running
      await w.waitForOutput(/claimed[\s\S]*claimed/);

      await server.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 1500)); // the command keeps training; its reports wait
      server = await startServerProcess(dbPath, { PORT: String(port) });

      expect(await w.exit).toBe(0);
      expect(w.output()).toMatch(/stopped \(experiment-done\): 4 succeeded/);
      const experiment = ok(await gql(EXPERIMENT_JOBS, { id })).experiment;
      expect(experiment.jobCounts).toMatchObject({ total: 4, succeeded: 4 });
      for (const { node } of experiment.jobs.edges) {
        const view = await job(gql, node.id);
        expect(view.attempts).toBe(1);
        expect(logText(view)).toHaveLength(epochs + 2);
        expect(view.logs.edges.map((e) => e.node.offset)).toEqual([...Array(epochs + 2).keys()]);
        expect(view.metrics.find((m) => m.name === 'loss')!.points.map((p) => p.step)).toEqual([
          ...Array(epochs).keys(),
        ]);
      }
    } finally {
      await server?.kill('SIGTERM');
      server = undefined;
      db.remove();
    }
  });
});
