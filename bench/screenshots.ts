/**
 * `npm run screenshots`: the README's pictures of the dashboard, taken in
 * Debian's Chromium from a server process with realistic data: a random
 * search run by real `trialog worker` processes (test/fixtures/dashboard/
 * train.mjs, its curves shaped by the hyperparameters, the bad ones pruned by
 * median early stopping), and a job whose log is still growing. Writes PNGs
 * into docs/screenshots/ (each kept under 300 KB: a 1280-pixel-wide window at
 * a device scale of 1).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium, recordRequests } from '../test/helpers/chromium.js';
import { startWorker, type WorkerProcess } from '../test/helpers/worker.js';
import { gqlOver } from './http.js';
import { startBenchServer } from './server.js';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const TRAIN = fileURLToPath(new URL('../test/fixtures/dashboard/train.mjs', import.meta.url));
const MAX_BYTES = 300 * 1024;
const log = (message: string) => console.error(`[screenshots] ${message}`);

const dir = mkdtempSync(join(tmpdir(), 'trialog-screenshots-'));
const server = await startBenchServer(join(dir, 'trialog.db'));
const { gql, close } = gqlOver(server.url, 2);
const workers: WorkerProcess[] = [];
const worker = (args: string[]) => {
  const w = startWorker(server.url, ['--work-dir', join(dir, 'runs'), ...args], { cwd: dir });
  workers.push(w);
  return w;
};
const browser = await launchChromium({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });

try {
  log('seeding: a random search of 24 trials with median early stopping, run by two workers');
  const { createExperiment: search } = await gql<{ createExperiment: { id: string } }>(
    `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id } }`,
    {
      input: {
        name: 'resnet-lr-search',
        description: 'Learning rate, depth and dropout for the image classifier',
        objective: { metric: 'loss', direction: 'MINIMIZE' },
        scheduler: {
          random: {
            seed: 11,
            maxJobs: 24,
            space: [
              { name: 'lr', distribution: { logUniform: { low: 0.0003, high: 0.3 } } },
              { name: 'layers', distribution: { intUniform: { low: 2, high: 8 } } },
              { name: 'dropout', distribution: { uniform: { low: 0, high: 0.5 } } },
            ],
          },
        },
        earlyStopping: { median: { startupJobs: 5, warmupSteps: 8 } },
        maxConcurrent: 4,
      },
    },
  );
  await gql(`mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id } }`, {
    input: {
      name: 'tokenizer-grid',
      description: 'Vocabulary size against sequence length',
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: {
        grid: {
          space: [
            { name: 'lr', values: [0.001, 0.01, 0.03] },
            { name: 'layers', values: [2, 4] },
          ],
        },
      },
    },
  });
  const trainArgs = ['--', process.execPath, TRAIN, '--epochs=40', '--epoch-ms=25'];
  const a = worker(['--experiment', 'resnet-lr-search', '--slots', '2', '--worker-id', 'gpu-node-1', ...trainArgs]);
  const b = worker(['--experiment', 'resnet-lr-search', '--slots', '2', '--worker-id', 'gpu-node-2', ...trainArgs]);
  await Promise.all([a.exit, b.exit]);
  // The grid runs halfway: some trials done, the experiment still RUNNING.
  await worker(['--experiment', 'tokenizer-grid', '--max-jobs', '3', '--worker-id', 'gpu-node-3', ...trainArgs]).exit;

  // A job still running, its log and curve growing while the pictures are taken.
  const { createJob } = await gql<{ createJob: { id: string } }>(
    `mutation { createJob(input: { hyperparameters: { lr: 0.01, layers: 4, dropout: 0.1 }, labels: ["gpu"] }) { id } }`,
  );
  worker([
    '--labels',
    'gpu',
    '--max-jobs',
    '1',
    '--worker-id',
    'gpu-node-1',
    '--',
    process.execPath,
    TRAIN,
    '--epochs=400',
    '--epoch-ms=60',
    '--lines=1',
    '--lr=0.01',
    '--layers=4',
    '--dropout=0.1',
  ]);
  await new Promise((resolve) => setTimeout(resolve, 6000));

  const origin = new URL(server.url).origin;
  const requests = await recordRequests(browser.context, origin);
  mkdirSync(OUT, { recursive: true });
  const page = await browser.context.newPage();
  const shoot = async (name: string, path: string, ready: (page: Page) => Promise<unknown>) => {
    await page.goto(`${origin}${path}`);
    await ready(page);
    // Live pages keep changing: let the last frame settle before the picture.
    await page.waitForTimeout(600);
    const file = join(OUT, `${name}.png`);
    await page.screenshot({ path: file });
    const bytes = statSync(file).size;
    log(`${file}: ${Math.round(bytes / 1024)} KB`);
    if (bytes > MAX_BYTES) throw new Error(`${file} is ${Math.round(bytes / 1024)} KB, over ${MAX_BYTES / 1024} KB`);
  };
  const visible = (selector: string) => (p: Page) =>
    p.locator(selector).first().waitFor({ state: 'visible', timeout: 30_000 });
  await shoot('experiments', '/experiments', visible('[data-testid=experiment-row]'));
  await shoot('experiment-leaderboard', `/experiments/${search.id}`, visible('[data-testid=leaderboard-row]'));
  await shoot('experiment-curves', `/experiments/${search.id}?tab=curves`, visible('.tab-panel canvas'));
  await shoot('job', `/jobs/${createJob.id}`, visible('[data-testid=metric-chart] canvas'));
  await shoot('job-log', `/jobs/${createJob.id}?tab=logs`, visible('[data-testid=log-line]'));
  await shoot('audit', '/audit', visible('[data-testid=event-row]'));
  if (requests.offsite().length) throw new Error(`requests left the machine: ${requests.offsite().join(', ')}`);
} finally {
  await browser.close();
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
