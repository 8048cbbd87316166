/**
 * `trialog worker` on a machine people share: what a job's data or its
 * command leaves behind must not make the worker read, publish or hand on
 * anything outside the job's own directories. A real server, the real worker
 * process, real files, links and FIFOs.
 */
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COMPLETE, REPORT_METRICS, claim } from '../helpers/jobs.js';
import { ok, startTestServer, tempDir, type Gql, type TestServer } from '../helpers/server.js';
import { BEHAVE_SCRIPT, PYTHON, startWorker, type WorkerProcess } from '../helpers/worker.js';

const JOB = `query($id: ID!) {
  job(id: $id) {
    id status attempts maxAttempts error result
    artifacts { name uri }
    logs(first: 1000) { edges { node { text } } }
  }
}`;

interface JobView {
  id: string;
  status: string;
  attempts: number;
  maxAttempts: number;
  error: string | null;
  result: Record<string, unknown> | null;
  artifacts: { name: string; uri: string }[];
  logs: { edges: { node: { text: string } }[] };
}

const job = async (gql: Gql, id: string) => ok(await gql<{ job: JobView }>(JOB, { id })).job;
const logText = (view: JobView) => view.logs.edges.map((e) => e.node.text).join('\n');
const createJob = async (input: Record<string, unknown>) =>
  ok(
    await t.gql<{ createJob: { id: string } }>(
      `mutation($input: CreateJobInput!) { createJob(input: $input) { id } }`,
      { input },
    ),
  ).createJob.id;

/** What the passwd file looks like: never to be published by a worker. */
const PASSWD_LIKE = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';

let t: TestServer;
/** The worker's directory (its work dir is `runs` in it) and a directory outside it, standing for the rest of the machine. */
let dir: { path: string; remove(): void };
let elsewhere: { path: string; remove(): void };
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
  elsewhere?.remove();
});

function fresh(): void {
  dir = tempDir('trialog-shared-worker-');
  elsewhere = tempDir('trialog-elsewhere-');
}

const workDir = () => join(dir.path, 'runs');

function worker(args: string[], command: string[] = [PYTHON, BEHAVE_SCRIPT]): WorkerProcess {
  const w = startWorker(t.url, ['--work-dir', workDir(), ...args, '--', ...command], { cwd: dir.path });
  workers.push(w);
  return w;
}

/** Resolves with the worker's exit code, or rejects after `ms` (a worker stuck on a FIFO never exits). */
function exitWithin(w: WorkerProcess, ms: number): Promise<number | null> {
  return Promise.race([
    w.exit,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`the worker did not finish within ${ms} ms:\n${w.output()}`)), ms),
    ),
  ]);
}

describe('nothing outside the output directory is read or published', () => {
  it('given result.json is a symbolic link to a JSON file elsewhere, then that file is not the result: the job fails saying result.json is a link', async () => {
    fresh();
    const secret = join(elsewhere.path, 'secret.json');
    writeFileSync(secret, JSON.stringify({ apiToken: 'sk-live-do-not-publish' }));
    const id = await createJob({
      params: { mode: 'plant', links: [['result.json', secret]] },
      labels: ['result-link'],
      maxAttempts: 1,
    });
    const w = worker(['--labels', 'result-link', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('FAILED');
    expect(view.result).toBeNull();
    expect(view.error).toMatch(/result\.json is a symbolic link/);
    expect(JSON.stringify(view)).not.toContain('sk-live-do-not-publish');
  });

  it('given result.json is a symbolic link to a passwd-like file, then no byte of that file reaches the job', async () => {
    fresh();
    const passwd = join(elsewhere.path, 'passwd');
    writeFileSync(passwd, PASSWD_LIKE);
    const id = await createJob({
      params: { mode: 'plant', links: [['result.json', passwd]] },
      labels: ['passwd-link'],
      maxAttempts: 1,
    });
    const w = worker(['--labels', 'passwd-link', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('FAILED');
    expect(JSON.stringify(view)).not.toContain('root:x');
  });

  it("given a result.json that is not JSON, then the error describes it (its size) without copying the file's content", async () => {
    fresh();
    const id = await createJob({
      params: { mode: 'plant', files: { 'result.json': PASSWD_LIKE } },
      labels: ['not-json'],
      maxAttempts: 1,
    });
    const w = worker(['--labels', 'not-json', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatch(
      new RegExp(`result\\.json is not valid JSON \\(${Buffer.byteLength(PASSWD_LIKE)} bytes`),
    );
    expect(view.error).not.toContain('root:x');
  });

  it('given result.json is a FIFO, then the worker does not wait on it: the job fails saying it is not a regular file', async () => {
    fresh();
    const id = await createJob({
      params: { mode: 'plant', fifos: ['result.json'] },
      labels: ['result-fifo'],
      maxAttempts: 1,
    });
    const w = worker(['--labels', 'result-fifo', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('FAILED');
    expect(view.error).toMatch(/result\.json is not a regular file \(a FIFO\)/);
  });

  it('given symbolic links (to a file and to a directory elsewhere) and a FIFO among the outputs, then only the regular files are artifacts and the log says what was skipped', async () => {
    fresh();
    mkdirSync(join(elsewhere.path, 'keys'));
    writeFileSync(join(elsewhere.path, 'keys', 'id_ed25519'), 'PRIVATE KEY');
    writeFileSync(join(elsewhere.path, 'passwd'), PASSWD_LIKE);
    const id = await createJob({
      params: {
        mode: 'plant',
        files: { 'result.json': '{"ok": true}', 'model/weights.bin': 'weights' },
        links: [
          ['model/passwd', join(elsewhere.path, 'passwd')],
          ['ssh', join(elsewhere.path, 'keys')],
        ],
        fifos: ['pipe'],
      },
      labels: ['artifact-links'],
    });
    const w = worker(['--labels', 'artifact-links', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    expect(view.result).toEqual({ ok: true });
    expect(view.artifacts.map((a) => a.name)).toEqual(['model/weights.bin', 'result.json']);
    const log = logText(view);
    expect(log).toContain(`[trialog worker] skipped symbolic link model/passwd -> ${join(elsewhere.path, 'passwd')}`);
    expect(log).toContain(`[trialog worker] skipped symbolic link ssh -> ${join(elsewhere.path, 'keys')}`);
    expect(log).toContain('[trialog worker] skipped pipe: not a regular file (a FIFO)');
  });

  it("given the metrics file is a symbolic link to a passwd-like file, then it is not read, and the log says why without the file's lines", async () => {
    fresh();
    const passwd = join(elsewhere.path, 'passwd');
    writeFileSync(passwd, PASSWD_LIKE);
    const id = await createJob({
      params: { mode: 'plant', metrics_link: passwd, files: { 'result.json': '{}' } },
      labels: ['metrics-link'],
    });
    const w = worker(['--labels', 'metrics-link', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    const log = logText(view);
    expect(log).not.toContain('root:x');
    expect(log).toContain('[trialog worker] the metrics file is not read: it is a symbolic link');
  });
});

describe("the job's directories are the worker's own", () => {
  it("given the job's directory in the work directory is a symbolic link someone left there, then the worker does not run the job through it: it hands the job back and stops", async () => {
    fresh();
    const id = await createJob({ params: { mode: 'echo' }, labels: ['planted-dir'] });
    mkdirSync(workDir(), { recursive: true });
    mkdirSync(join(elsewhere.path, 'theirs'));
    symlinkSync(join(elsewhere.path, 'theirs'), join(workDir(), id));
    const w = worker(['--labels', 'planted-dir', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(1);
    expect(w.output()).toContain(
      `cannot prepare the job's output directory: ${join(workDir(), id)} is a symbolic link`,
    );
    expect(await job(t.gql, id)).toMatchObject({ status: 'QUEUED', attempts: 0 });
    expect(readdirSync(join(elsewhere.path, 'theirs'))).toEqual([]);
  });
});

describe('hyperparameters as command options', () => {
  it("given the operator's command sets --epochs 3, when a job's hyperparameters hold epochs 12345, then the operator's value stands and the log says so", async () => {
    fresh();
    const id = await createJob({
      hyperparameters: { epochs: 12345, lr: 0.5 },
      params: { mode: 'echo' },
      labels: ['operator-wins'],
    });
    const w = worker(['--labels', 'operator-wins', '--max-jobs', '1'], [PYTHON, BEHAVE_SCRIPT, '--epochs', '3']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    expect((view.result as { argv: string[] }).argv).toEqual(['--epochs', '3', '--lr=0.5']);
    expect(logText(view)).toContain(
      '[trialog worker] hyperparameter epochs not passed as an argument: the command line sets --epochs',
    );
  });

  it('given a value that starts with a dash, then it stays the value of its option (one --name=value argument)', async () => {
    fresh();
    const id = await createJob({
      hyperparameters: { note: '--delete-everything', shift: -2 },
      params: { mode: 'echo' },
      labels: ['dash-value'],
    });
    const w = worker(['--labels', 'dash-value', '--max-jobs', '1']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect((view.result as { argv: string[] }).argv).toEqual(['--note=--delete-everything', '--shift=-2']);
  });

  it('given separate arguments are asked for (--hparam-delimiter " "), when a value starts with a dash and is not a number, then the job fails without being retried and the command does not run', async () => {
    fresh();
    const id = await createJob({
      hyperparameters: { note: '--delete-everything' },
      params: { mode: 'echo' },
      labels: ['dash-spaced'],
      maxAttempts: 3,
    });
    const w = worker(['--labels', 'dash-spaced', '--max-jobs', '1', '--hparam-delimiter', ' ']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view).toMatchObject({ status: 'FAILED', attempts: 1, result: null });
    expect(view.error).toMatch(
      /hyperparameter note: a value starting with "-" cannot be passed as a separate argument/,
    );
  });

  for (const [what, name] of [
    ['an empty name', ''],
    ['a name with a space', 'a b'],
    ['a name that is an option already', '-rf'],
    ['a name with "="', 'lr=1'],
  ] as const) {
    it(`given ${what}, then the job fails without being retried, saying which name and why, and the command does not run`, async () => {
      fresh();
      const label = `bad-name-${Buffer.from(name).toString('hex') || 'empty'}`;
      const id = await createJob({
        hyperparameters: { [name]: 1 },
        params: { mode: 'echo' },
        labels: [label],
        maxAttempts: 3,
      });
      const w = worker(['--labels', label, '--max-jobs', '1']);
      expect(await exitWithin(w, 30_000)).toBe(0);
      const view = await job(t.gql, id);
      expect(view).toMatchObject({ status: 'FAILED', attempts: 1, result: null });
      expect(view.error).toContain(`hyperparameter name ${JSON.stringify(name)} cannot be passed as a command option`);
    });
  }

  it('given --no-hparam-args, then names are not checked: the hyperparameters reach the command in TRIALOG_HPARAMS only', async () => {
    fresh();
    const id = await createJob({
      hyperparameters: { '': 1, 'a b': 2 },
      params: { mode: 'echo' },
      labels: ['env-only'],
    });
    const w = worker(['--labels', 'env-only', '--max-jobs', '1', '--no-hparam-args']);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const view = await job(t.gql, id);
    expect(view.status).toBe('SUCCEEDED');
    const { argv, env } = view.result as { argv: string[]; env: Record<string, string> };
    expect(argv).toEqual([]);
    expect(JSON.parse(env.TRIALOG_HPARAMS!)).toEqual({ '': 1, 'a b': 2 });
  });
});

describe("PBT: where a child finds its parent's checkpoint", () => {
  const objective = { metric: 'Q', direction: 'MAXIMIZE' };
  let experiments = 0;

  /**
   * A PBT experiment of two members whose first generation was run by hand and
   * reported the artifact `uri`: the next claim makes a child of one of them.
   */
  async function pbtWhoseParentsReported(uri: string): Promise<string> {
    const name = `pbt-checkpoint-${++experiments}`;
    const { id } = ok(
      await t.gql(`mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id } }`, {
        input: {
          name,
          objective,
          scheduler: {
            pbt: {
              populationSize: 2,
              initial: [{ name: 'h', distribution: { uniform: { low: 0, high: 1 } } }],
              exploit: { truncation: { fraction: 0.5 } },
              explore: [{ parameter: 'h', strategy: { perturb: {} } }],
              maxGenerations: 2,
              seed: 1,
            },
          },
        },
      }),
    ).createExperiment;
    for (let member = 0; member < 2; member++) {
      const c = (await claim(t.gql, { workerId: 'by-hand', experimentId: id }))!;
      const lease = { jobId: c.job.id, leaseToken: c.leaseToken };
      ok(await t.gql(REPORT_METRICS, { input: { ...lease, points: [{ name: 'Q', value: member, step: 0 }] } }));
      ok(await t.gql(COMPLETE, { input: { ...lease, result: {}, artifacts: [{ name: 'checkpoint.json', uri }] } }));
    }
    return name;
  }

  async function childEnvironment(
    name: string,
    args: string[] = [],
  ): Promise<{ env: Record<string, string>; log: string }> {
    const w = worker(['--experiment', name, '--max-jobs', '1', ...args]);
    expect(await exitWithin(w, 30_000)).toBe(0);
    const ids = ok(
      await t.gql(
        `query($n: String) { experiment(name: $n) { jobs(first: 10) { edges { node { id generation status } } } } }`,
        { n: name },
      ),
    ).experiment.jobs.edges.map((e: { node: { id: string; generation: number; status: string } }) => e.node);
    const child = ids.find((j: { generation: number }) => j.generation === 1);
    const view = await job(t.gql, child.id);
    expect(view.status).toBe('SUCCEEDED');
    return { env: (view.result as { env: Record<string, string> }).env, log: logText(view) };
  }

  it('given parents that reported a checkpoint in a directory elsewhere on the machine, then the child is not pointed at it, and its log says so', async () => {
    fresh();
    mkdirSync(join(elsewhere.path, '.ssh'));
    writeFileSync(join(elsewhere.path, '.ssh', 'checkpoint.json'), '{}');
    const uri = pathToFileURL(join(elsewhere.path, '.ssh', 'checkpoint.json')).href;
    const { env, log } = await childEnvironment(await pbtWhoseParentsReported(uri));
    expect(env.TRIALOG_CHECKPOINT_FROM).toBe('');
    expect(JSON.parse(env.TRIALOG_PARENT_ARTIFACTS!)).toEqual([]);
    expect(log).toContain(
      `[trialog worker] parent artifact checkpoint.json not passed: ${join(elsewhere.path, '.ssh')} is outside the work directory and every --checkpoint-root`,
    );
  });

  it('given a link inside the work directory that leads elsewhere, then it does not qualify either', async () => {
    fresh();
    mkdirSync(join(workDir(), 'job-x'), { recursive: true });
    mkdirSync(join(elsewhere.path, '.ssh'));
    writeFileSync(join(elsewhere.path, '.ssh', 'checkpoint.json'), '{}');
    symlinkSync(join(elsewhere.path, '.ssh'), join(workDir(), 'job-x', 'output'));
    const { env } = await childEnvironment(
      await pbtWhoseParentsReported(pathToFileURL(join(workDir(), 'job-x', 'output', 'checkpoint.json')).href),
    );
    expect(env.TRIALOG_CHECKPOINT_FROM).toBe('');
  });

  it("given a parent's checkpoint under the worker's work directory, then the child gets that directory", async () => {
    fresh();
    const output = join(workDir(), 'job-p', 'attempt-1-00000000', 'output');
    mkdirSync(output, { recursive: true });
    writeFileSync(join(output, 'checkpoint.json'), '{}');
    const uri = pathToFileURL(join(output, 'checkpoint.json')).href;
    const { env } = await childEnvironment(await pbtWhoseParentsReported(uri));
    expect(env.TRIALOG_CHECKPOINT_FROM).toBe(output);
    expect(JSON.parse(env.TRIALOG_PARENT_ARTIFACTS!)).toEqual([
      { name: 'checkpoint.json', uri, sha256: null, metadata: null },
    ]);
  });

  it('given a directory allowed with --checkpoint-root, then a checkpoint there qualifies', async () => {
    fresh();
    const shared = join(elsewhere.path, 'team-checkpoints', 'run-7');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'checkpoint.json'), '{}');
    const uri = pathToFileURL(join(shared, 'checkpoint.json')).href;
    const { env } = await childEnvironment(await pbtWhoseParentsReported(uri), [
      '--checkpoint-root',
      join(elsewhere.path, 'team-checkpoints'),
    ]);
    expect(env.TRIALOG_CHECKPOINT_FROM).toBe(shared);
  });
});
