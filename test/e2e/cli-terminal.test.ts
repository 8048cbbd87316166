/**
 * What a job writes must not drive the terminal of whoever looks at it: the
 * real `trialog` command line, in its own process, against a real server.
 * Given a job whose log, error, labels, worker id, hyperparameters, result,
 * artifacts and experiment hold escape sequences (an OSC 52 clipboard write,
 * a clear-screen, a C1 CSI, a bidi override), when a person prints it, then
 * every control character is shown as a visible escape, never sent as is;
 * `--raw` sends the text as it is, for a person who asks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPEND_LOG, COMPLETE, FAIL, claim, createJob } from '../helpers/jobs.js';
import { trialogCli } from '../helpers/process.js';
import { ok, startTestServer, type TestServer } from '../helpers/server.js';

const CLIPBOARD_WRITE = '\x1b]52;c;ZXZpbA==\x07';
const CLEAR_SCREEN = '\x1b[2J';
const C1_CSI = '\u009b31m';
const BIDI_OVERRIDE = '\u202e';
const HOSTILE = `before ${CLIPBOARD_WRITE}${CLEAR_SCREEN}${C1_CSI}${BIDI_OVERRIDE} after`;
/** How each shows when rendered inert. */
const SHOWN = 'before \\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x9b31m\\u202e after';

/** Any control character a terminal acts on (C0 but tab and newline, DEL, C1) or a bidi control. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LIVE_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

let t: TestServer;
let jobId: string;
/** A job that succeeded: labels, result and artifacts hold the sequences. */
let succeededId: string;
let experimentName: string;

beforeAll(async () => {
  t = await startTestServer();
  experimentName = `sweep ${CLIPBOARD_WRITE}`;
  const experiment = ok(
    await t.gql(`mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id } }`, {
      input: { name: experimentName, description: HOSTILE, scheduler: { manual: {} } },
    }),
  ).createExperiment;
  jobId = (await createJob(t.gql, { experimentId: experiment.id, hyperparameters: { note: HOSTILE }, maxAttempts: 1 }))
    .id;
  const c = (await claim(t.gql, { workerId: `worker ${CLEAR_SCREEN}`, experimentId: experiment.id }))!;
  const lease = { jobId, leaseToken: c.leaseToken };
  ok(await t.gql(APPEND_LOG, { input: { ...lease, lines: ['plain line', HOSTILE, 'tab\tstays'], stream: 'STDOUT' } }));
  ok(await t.gql(FAIL, { input: { ...lease, error: `failed: ${HOSTILE}`, retry: false } }));

  succeededId = (await createJob(t.gql, { labels: [`gpu${CLEAR_SCREEN}`] })).id;
  const d = (await claim(t.gql, { workerId: 'w', labels: [`gpu${CLEAR_SCREEN}`] }))!;
  const done = { jobId: succeededId, leaseToken: d.leaseToken };
  ok(
    await t.gql(COMPLETE, {
      input: {
        ...done,
        result: { summary: HOSTILE },
        artifacts: [{ name: `weights${CLEAR_SCREEN}`, uri: `file:///tmp/${C1_CSI}` }],
      },
    }),
  );
});
afterAll(async () => {
  await t.stop();
});

const cli = (...args: string[]) => trialogCli([...args, '--url', t.url], t.dbPath);

describe('trialog logs', () => {
  it('given a log line holding OSC 52 and clear-screen, when printed, then they show as visible escapes and no control character is sent', async () => {
    const { code, stdout } = await cli('logs', jobId);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(LIVE_CONTROL);
    expect(stdout.split('\n')).toEqual(['plain line', SHOWN, 'tab\tstays', '']);
  });

  it('given --raw, then the lines are printed as the job wrote them', async () => {
    const { code, stdout } = await cli('logs', jobId, '--raw');
    expect(code).toBe(0);
    expect(stdout).toBe(`plain line\n${HOSTILE}\ntab\tstays\n`);
  });

  it('given --json, then the output is JSON that means the same text, with no control character sent', async () => {
    const { code, stdout } = await cli('logs', jobId, '--json');
    expect(code).toBe(0);
    expect(stdout).not.toMatch(LIVE_CONTROL);
    expect(JSON.parse(stdout).map((l: { text: string }) => l.text)).toEqual(['plain line', HOSTILE, 'tab\tstays']);
  });
});

describe('trialog job, jobs, experiment show, experiments', () => {
  for (const args of [
    ['job', 'JOB'],
    ['job', 'SUCCEEDED'],
    ['jobs'],
    ['experiment', 'show', 'EXPERIMENT'],
    ['experiments'],
    ['job', 'JOB', '--json'],
  ]) {
    it(`given job-supplied text with escape sequences, when "trialog ${args.join(' ')}" prints it, then no control character is sent`, async () => {
      const { code, stdout } = await cli(
        ...args.map((a) =>
          a === 'JOB' ? jobId : a === 'SUCCEEDED' ? succeededId : a === 'EXPERIMENT' ? experimentName : a,
        ),
      );
      expect(code).toBe(0);
      expect(stdout).not.toMatch(LIVE_CONTROL);
      if (args[1] === 'JOB' && args.length === 2) {
        expect(stdout).toContain(`failed: ${SHOWN}`);
        expect(stdout).toContain('worker \\x1b[2J');
      }
      if (args[1] === 'SUCCEEDED') {
        expect(stdout).toContain('gpu\\x1b[2J');
        expect(stdout).toContain('weights\\x1b[2J');
        // The result is shown as JSON, which escapes C0 its own way; what JSON leaves raw is escaped here.
        expect(stdout).toContain('{"summary":"before \\u001b]52;c;ZXZpbA==\\u0007\\u001b[2J\\x9b31m\\u202e after"}');
      }
    });
  }

  it('given a server message that quotes what was typed, when the command fails, then stderr holds no control character either', async () => {
    const { code, stderr } = await cli('experiment', 'show', `no such ${CLEAR_SCREEN}`);
    expect(code).toBe(3);
    expect(stderr).not.toMatch(LIVE_CONTROL);
    expect(stderr).toContain('\\x1b[2J');
  });
});
