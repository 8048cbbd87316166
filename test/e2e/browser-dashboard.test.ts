/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core)
 * against a real server process serving the built dashboard, with `trialog
 * worker` processes running a real command (test/fixtures/dashboard/train.mjs)
 * that prints log lines and reports a `loss` curve. Every request the browser
 * makes is recorded; any that would leave the machine is refused, and the last
 * test says there was none.
 */
import type { Page } from 'playwright-core';
import { afterEach, expect, it } from 'vitest';
import {
  createKey,
  dashboardSessionPerFile,
  describeInChromium,
  openDashboard,
  trainCommand,
  type DashboardPage,
} from '../helpers/browser.js';
import { ok } from '../helpers/server.js';

const POLL = { timeout: 30_000, interval: 100 };

interface CreatedExperiment {
  id: string;
  name: string;
}

describeInChromium('the dashboard in a real browser', () => {
  const session = dashboardSessionPerFile();
  const open: DashboardPage[] = [];

  afterEach(async () => {
    for (const tab of open.splice(0)) await tab.close();
  });

  async function visit(path: string, key: string | null = session.server.adminKey): Promise<DashboardPage> {
    const tab = await openDashboard(session, path, key);
    open.push(tab);
    return tab;
  }

  async function createExperiment(input: Record<string, unknown>): Promise<CreatedExperiment> {
    const data = ok(
      await session.server.gql<{ createExperiment: CreatedExperiment }>(
        'mutation($input: CreateExperimentInput!) { createExperiment(input: $input) { id name } }',
        { input },
      ),
    );
    return data.createExperiment;
  }

  async function jobsOf(experimentId: string): Promise<{ id: string; status: string }[]> {
    const data = ok(
      await session.server.gql<{ jobs: { edges: { node: { id: string; status: string } }[] } }>(
        'query($e: ID!) { jobs(filter: { experimentId: $e }, first: 100) { edges { node { id status } } } }',
        { e: experimentId },
      ),
    );
    return data.jobs.edges.map((edge) => edge.node);
  }

  async function createJob(labels: string[]): Promise<string> {
    const data = ok(
      await session.server.gql<{ createJob: { id: string } }>(
        'mutation($labels: [String!]) { createJob(input: { labels: $labels }) { id } }',
        { labels },
      ),
    );
    return data.createJob.id;
  }

  async function statusOf(jobId: string): Promise<string> {
    const data = ok(
      await session.server.gql<{ job: { status: string } }>('query($id: ID!) { job(id: $id) { status } }', {
        id: jobId,
      }),
    );
    return data.job.status;
  }

  const rows = (page: Page) => page.getByTestId('leaderboard-row');
  /** How many points the job page's chart of `loss` holds, from its caption ("1,234 points, steps …"). */
  const chartedPoints = async (page: Page) => {
    const caption = await page
      .locator('[data-testid=metric-chart][data-series=loss] figcaption')
      .textContent({ timeout: 1000 })
      .catch(() => null);
    const match = caption ? /([\d,]+) points/.exec(caption) : null;
    return match ? Number(match[1]!.replaceAll(',', '')) : 0;
  };

  it('given an experiment whose trials a worker runs, when its page is open, then the trials appear and their curves grow without a reload', async () => {
    const experiment = await createExperiment({
      name: 'browser-live-trials',
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      scheduler: { grid: { space: [{ name: 'quality', values: [1, 2] }] } },
    });
    const tab = await visit(`/experiments/${experiment.id}`);
    // Nothing has run yet: the grid makes its trials when a worker claims them.
    await expect.poll(() => tab.page.getByTestId('experiment-status').textContent(), POLL).toBe('RUNNING');
    expect(await rows(tab.page).count()).toBe(0);

    session.server.worker(['--experiment', experiment.name, ...trainCommand('--epochs=40', '--epoch-ms=100')]);
    await expect.poll(() => rows(tab.page).count(), POLL).toBeGreaterThanOrEqual(1);

    // The first trial's page, reached by its link (no reload): its loss curve grows as the command reports.
    await rows(tab.page).first().locator('a[href^="/jobs/"]').click();
    await expect.poll(() => chartedPoints(tab.page), POLL).toBeGreaterThan(0);
    const before = await chartedPoints(tab.page);
    await expect.poll(() => chartedPoints(tab.page), POLL).toBeGreaterThan(before + 2);
    expect(await tab.stillTheSameDocument(), 'the page was reloaded').toBe(true);

    // Back on the experiment page (history, no reload), the second trial appears as the worker takes it.
    await tab.page.goBack();
    await expect.poll(() => rows(tab.page).count(), { ...POLL, timeout: 60_000 }).toBe(2);
    expect(await tab.stillTheSameDocument(), 'the page was reloaded').toBe(true);
  });

  it('given median early stopping and a trial whose curve stays bad, then its page says why it was pruned: the step, its value, the median and how many trials it came from', async () => {
    const experiment = await createExperiment({
      name: 'browser-pruning',
      objective: { metric: 'loss', direction: 'MINIMIZE' },
      // Grid order is declared order: three good trials complete before the bad one (quality 9) runs.
      scheduler: { grid: { space: [{ name: 'quality', values: [1, 2, 3, 9] }] } },
      earlyStopping: { median: { startupJobs: 3, warmupSteps: 2 } },
    });
    const worker = session.server.worker([
      '--experiment',
      experiment.name,
      ...trainCommand('--epochs=6', '--epoch-ms=20'),
    ]);
    await worker.exit;
    const pruned = (await jobsOf(experiment.id)).filter((job) => job.status === 'PRUNED');
    expect(pruned, 'the bad trial was pruned').toHaveLength(1);

    const tab = await visit(`/jobs/${pruned[0]!.id}`);
    const reason = tab.page.getByTestId('pruning-reason');
    // At step 2 (the first after the warm-up) the good trials stood at 1.1/3, 1.2/3 and 1.3/3: their median is 0.4.
    await expect
      .poll(() => reason.textContent(), POLL)
      .toMatch(/^Pruned at step 2: value 9\.98 was worse than the median 0\.4 of 3 completed trials at that step/);
    expect(await reason.getAttribute('data-step')).toBe('2');
  });

  it('given a running job, when its log tab is open, then new lines appear at the tail as the command prints them, without a reload', async () => {
    const jobId = await createJob(['browser-logs']);
    session.server.worker([
      '--labels',
      'browser-logs',
      '--max-jobs',
      '1',
      ...trainCommand('--epochs=60', '--epoch-ms=100', '--lines=2'),
    ]);
    await expect.poll(() => statusOf(jobId), POLL).toBe('RUNNING');

    const tab = await visit(`/jobs/${jobId}?tab=logs`);
    const lines = tab.page.getByTestId('log-line');
    await expect.poll(() => lines.count(), POLL).toBeGreaterThan(0);
    const lastEpoch = async () => {
      const texts = await lines.allTextContents();
      const epochs = texts
        .map((text) => /epoch (\d+) loss/.exec(text)?.[1])
        .filter((n) => n !== undefined)
        .map(Number);
      return epochs.length ? Math.max(...epochs) : -1;
    };
    const seen = await lastEpoch();
    await expect.poll(lastEpoch, POLL).toBeGreaterThan(seen + 3);
    expect(await tab.page.getByTestId('log-view').getAttribute('data-following')).toBe('true');
    expect(await tab.stillTheSameDocument(), 'the page was reloaded').toBe(true);
  });

  it('given a finished job, when the time slider is moved back, then the page shows the job as it stood at that revision, and the link keeps it', async () => {
    const jobId = await createJob(['browser-history']);
    const worker = session.server.worker([
      '--labels',
      'browser-history',
      '--max-jobs',
      '1',
      ...trainCommand('--epochs=3', '--epoch-ms=10'),
    ]);
    await worker.exit;
    expect(await statusOf(jobId)).toBe('SUCCEEDED');

    const tab = await visit(`/jobs/${jobId}?tab=history`);
    const status = tab.page.getByTestId('job-status');
    await expect.poll(() => status.textContent(), POLL).toBe('SUCCEEDED');
    // Revision 1 is the claim: the job was RUNNING then.
    await tab.page.getByTestId('time-slider').fill('1');
    await expect.poll(() => status.textContent(), POLL).toBe('RUNNING');
    expect(await tab.page.getByTestId('job-page').getAttribute('data-live')).toBe('false');
    expect(new URL(tab.page.url()).searchParams.get('rev')).toBe('1');

    // The link opens the same past: revision 0, as created.
    const past = await visit(`/jobs/${jobId}?tab=history&rev=0`);
    await expect.poll(() => past.page.getByTestId('job-status').textContent(), POLL).toBe('QUEUED');
    await expect.poll(() => past.page.getByTestId('job-past-banner').textContent(), POLL).toContain('revision 0');
  });

  it('given a VIEWER key typed into the page, then no action is offered (where the admin sees them), and the key is kept in sessionStorage only', async () => {
    const viewerKey = await createKey(session.server, 'browser-viewer', 'VIEWER');
    const queued = await createJob(['nobody-serves-this']);
    const experiment = await createExperiment({ name: 'browser-actions', scheduler: { manual: { maxJobs: 5 } } });

    // The admin sees them: so their absence below is the role's doing, not a page that shows none.
    const admin = await visit(`/jobs/${queued}`);
    await expect.poll(() => admin.page.getByTestId('job-cancel').count(), POLL).toBe(1);
    await admin.page.goto(`${session.server.origin}/experiments/${experiment.id}`);
    await expect.poll(() => admin.page.getByTestId('action-pause').count(), POLL).toBe(1);

    const viewer = await visit(`/jobs/${queued}`, viewerKey);
    await expect
      .poll(() => viewer.page.locator('.key-button').textContent(), POLL)
      .toContain('browser-viewer (viewer)');
    await expect.poll(() => viewer.page.getByTestId('job-status').textContent(), POLL).toBe('QUEUED');
    expect(await viewer.page.getByTestId('job-actions').count()).toBe(0);
    expect(await viewer.page.getByRole('button', { name: /^(cancel|retry)$/i }).count()).toBe(0);
    await viewer.page.goto(`${session.server.origin}/experiments/${experiment.id}`);
    await expect.poll(() => viewer.page.getByTestId('experiment-status').textContent(), POLL).toBe('RUNNING');
    expect(await viewer.page.locator('[data-testid^=action-]').count()).toBe(0);
    expect(await viewer.page.getByRole('button', { name: /^(pause|resume|finish)$/i }).count()).toBe(0);

    // The key: in sessionStorage, nowhere in the URL, localStorage or any request's URL.
    const storage = await viewer.page.evaluate(() => ({
      session: Object.keys(sessionStorage).map((name) => sessionStorage.getItem(name)),
      local: Object.keys(localStorage).map((name) => `${name}=${localStorage.getItem(name)}`),
      url: location.href,
    }));
    expect(storage.session).toContain(viewerKey);
    expect(storage.local.filter((entry) => entry.includes(viewerKey))).toEqual([]);
    expect(storage.url).not.toContain(viewerKey);
    expect(
      session.requests.urls.filter((url) => url.includes(viewerKey) || url.includes(session.server.adminKey)),
    ).toEqual([]);
  });

  it('then, across all of the above, no request left the machine', async () => {
    const { urls } = session.requests;
    const home = session.server.origin;
    expect(
      urls.filter((url) => url.startsWith(`${home}/assets/`)).length,
      'the dashboard loaded its scripts',
    ).toBeGreaterThan(0);
    expect(
      urls.some((url) => url === `${home.replace(/^http/, 'ws')}/graphql`),
      'its live feeds ran over a WebSocket',
    ).toBe(true);
    expect(session.requests.offsite()).toEqual([]);

    // And the record is no formality: a request to another host is seen, and refused before it leaves.
    const tab = await session.browser.context.newPage();
    const outcome = await tab.goto('http://192.0.2.1/').then(
      () => 'sent',
      (error: Error) => `refused: ${error.message}`,
    );
    await tab.close();
    expect(outcome).toMatch(/^refused: .*ERR_BLOCKED_BY_CLIENT/);
    expect(session.requests.offsite()).toEqual(['http://192.0.2.1/']);
  });
});
