/**
 * Every live view starts and resumes with no gap, in a real browser (Debian's Chromium driven by
 * playwright-core) against a real server process on a SQLite file:
 * - changes made without pause while the page loads (before, during and after its first read and its
 *   subscribe) all appear, each once;
 * - the window between the first read and the subscribe, made wide on purpose: the page's WebSocket
 *   messages are held (page.routeWebSocket) until the page has shown its first read and changes have
 *   been made; then let through, the subscribe must still bring those changes (a feed "from now"
 *   would not);
 * - after the server is killed, changes made while it is down (by another server process on the same
 *   file) and the restart on the same port, the page, never reloaded, shows those changes, each once.
 * Screenshots of each view are written to TRIALOG_TEST_SHOTS (a directory) when it is set.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInChromium, requireDashboardBuild } from '../helpers/browser.js';
import { launchChromium, recordRequests, type LaunchedChromium, type RequestLog } from '../helpers/chromium.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { freePort, gqlClient, ok, sleep, tempDir, type Gql } from '../helpers/server.js';

const POLL = { timeout: 30_000, interval: 100 };
/** Changes still made once the page shows its first row: the subscribe may come after that. */
const CHANGES_AFTER_FIRST_ROW = 5;
/** Between two changes while a page loads: keeps a slow load's changes within a first page (50 experiments). */
const CHANGE_GAP_MS = 40;
const SHOTS = process.env.TRIALOG_TEST_SHOTS;

describeInChromium('live views start and resume with no gap', () => {
  const dir = tempDir('trialog-gapless-');
  const db = join(dir.path, 'trialog.db');
  const adminKey = randomBytes(24).toString('hex');
  let port: number;
  let server: ServerProcess;
  let browser: LaunchedChromium;
  let requests: RequestLog;
  let origin: string;
  const pages: Page[] = [];

  const asAdmin = (url: string): Gql => {
    const gql = gqlClient(url);
    return (query, variables, headers) => gql(query, variables, { authorization: `Bearer ${adminKey}`, ...headers });
  };
  /** GraphQL on the server the page is connected to (reads the current one: it is restarted). */
  const gql: Gql = (query, variables, headers) => asAdmin(server.url)(query, variables, headers);

  beforeAll(async () => {
    requireDashboardBuild();
    port = await freePort();
    server = await startServerProcess(db, { PORT: String(port), TRIALOG_ADMIN_KEY: adminKey });
    origin = new URL(server.url).origin;
    // Tall enough that every virtualized row of these tests is in the DOM.
    browser = await launchChromium({ viewport: { width: 1600, height: 4000 } });
    requests = await recordRequests(browser.context, origin);
    // The key as a person's earlier typing leaves it (sessionStorage), so the page reads at once on load.
    await browser.context.addInitScript((key) => sessionStorage.setItem('trialog.apiKey', key), adminKey);
  }, 60_000);

  afterAll(async () => {
    for (const page of pages) await page.close().catch(() => {});
    await browser?.close();
    await server?.kill('SIGKILL');
    dir.remove();
  });

  /**
   * Opens `path` while `change` runs again and again: from before the page's first request until
   * `firstRow` is shown, and CHANGES_AFTER_FIRST_ROW times more. Answers the page once it is loaded.
   */
  async function openDuringChanges(
    path: string,
    firstRow: string,
    change: (i: number) => Promise<void>,
  ): Promise<Page> {
    const page = await browser.context.newPage();
    pages.push(page);
    await page.evaluate(() => 0); // the tab exists before the first change
    let shown = false;
    const loading = page
      .goto(`${origin}${path}`)
      .then(() => page.locator(firstRow).first().waitFor({ timeout: 30_000 }))
      .then(() => (shown = true));
    let i = 0;
    let after = 0;
    while (!shown || after < CHANGES_AFTER_FIRST_ROW) {
      await change(i++);
      if (shown) after++;
      await sleep(CHANGE_GAP_MS);
      if (i > 1000) throw new Error(`${firstRow} never appeared on ${path}`);
    }
    await loading;
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));
    return page;
  }

  /**
   * Kills the server (SIGKILL), makes `changes` through another server process on the same file while
   * it is down, then starts it again on the same port: the open pages reconnect by themselves.
   */
  async function changesWhileDown(changes: (gql: Gql) => Promise<void>): Promise<void> {
    await server.kill('SIGKILL');
    const other = await startServerProcess(db, { TRIALOG_ADMIN_KEY: adminKey });
    try {
      await changes(asAdmin(other.url));
    } finally {
      await other.kill('SIGTERM');
    }
    server = await startServerProcess(db, { PORT: String(port), TRIALOG_ADMIN_KEY: adminKey });
  }

  /**
   * Opens `path` with its WebSocket messages to the server held back until `release()`: the page reads
   * its first page over HTTP, but its subscribe reaches the server only when released.
   */
  async function openWithSubscribesHeld(path: string, firstShown: string): Promise<{ page: Page; release(): void }> {
    const page = await browser.context.newPage();
    pages.push(page);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.routeWebSocket(/\/graphql$/, (socket) => {
      const upstream = socket.connectToServer();
      socket.onMessage((message) => void held.then(() => upstream.send(message)));
    });
    await page.goto(`${origin}${path}`);
    await page.locator(firstShown).first().waitFor({ timeout: 30_000 });
    return { page, release };
  }

  const notReloaded = (page: Page) =>
    page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true);

  async function shot(page: Page, name: string): Promise<void> {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), clip: { x: 0, y: 0, width: 1600, height: 900 } });
  }

  /** The values of `attribute` on every element `selector` matches, in order. */
  const attributes = (page: Page, selector: string, attribute: string) =>
    page.locator(selector).evaluateAll((elements, name) => elements.map((e) => e.getAttribute(name) ?? ''), attribute);
  const sorted = (values: string[]) => [...values].sort();

  async function createJob(g: Gql, input: Record<string, unknown>): Promise<string> {
    return ok(
      await g<{ createJob: { id: string } }>('mutation($i: CreateJobInput!) { createJob(input: $i) { id } }', {
        i: input,
      }),
    ).createJob.id;
  }
  async function cancelJob(g: Gql, jobId: string): Promise<void> {
    ok(await g('mutation($id: ID!) { cancelJob(input: { jobId: $id }) { id } }', { id: jobId }));
  }
  async function createExperiment(g: Gql, name: string): Promise<string> {
    const data = ok(
      await g<{ createExperiment: { id: string } }>(
        'mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id } }',
        { i: { name, scheduler: { manual: {} } } },
      ),
    );
    return data.createExperiment.id;
  }
  async function claim(g: Gql, input: Record<string, unknown>): Promise<{ jobId: string; leaseToken: string }> {
    const data = ok(
      await g<{ claimJob: { leaseToken: string; job: { id: string } } | null }>(
        'mutation($i: ClaimJobInput!) { claimJob(input: $i) { leaseToken job { id } } }',
        { i: input },
      ),
    );
    if (!data.claimJob) throw new Error(`nothing to claim for ${JSON.stringify(input)}`);
    return { jobId: data.claimJob.job.id, leaseToken: data.claimJob.leaseToken };
  }
  async function complete(g: Gql, lease: { jobId: string; leaseToken: string }): Promise<void> {
    ok(
      await g('mutation($i: CompleteJobInput!) { completeJob(input: $i) { id } }', {
        i: { jobId: lease.jobId, leaseToken: lease.leaseToken, result: { done: 1 } },
      }),
    );
  }

  it('audit: opened with no start, it shows the last hour (said on the page and in the URL), and every JobCreated made while it loads or while the server is down, once', async () => {
    const created: string[] = [];
    const page = await openDuringChanges('/audit?types=JobCreated', '[data-testid=event-row]', async () => {
      created.push(await createJob(gql, { labels: ['audit-gapless'] }));
    });
    expect(new URL(page.url()).searchParams.get('from')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await page.getByTestId('tape-range').textContent()).toMatch(/^Events from .+ to now, then live/);
    const createdStreams = () => attributes(page, '[data-testid=event-row][data-type=JobCreated]', 'data-stream');
    await expect
      .poll(async () => sorted(await createdStreams()), POLL)
      .toEqual(sorted(created.map((id) => `job-${id}`)));

    await changesWhileDown(async (other) => {
      for (let i = 0; i < 5; i++) created.push(await createJob(other, { labels: ['audit-gapless'] }));
    });
    await expect
      .poll(async () => sorted(await createdStreams()), POLL)
      .toEqual(sorted(created.map((id) => `job-${id}`)));
    expect(await notReloaded(page)).toBe(true);
    // An event's data opens below the tape (virtual rows keep one height).
    await page
      .locator(`[data-testid=event-row][data-stream="job-${created[0]}"] [data-testid=event-data-toggle]`)
      .click();
    await expect.poll(() => page.getByTestId('event-data').textContent(), POLL).toContain('audit-gapless');
    await shot(page, 'audit');

    // "From the beginning" asks for the whole log, and says so.
    await page.getByTestId('tape-from-beginning').click();
    await expect
      .poll(() => page.getByTestId('tape-range').textContent(), POLL)
      .toMatch(/^Events from the beginning of the log/);
    expect(new URL(page.url()).searchParams.get('from')).toBe('beginning');
    await expect
      .poll(async () => sorted(await createdStreams()), POLL)
      .toEqual(sorted(created.map((id) => `job-${id}`)));
  });

  it('jobs: the jobs created while the list loads and while the server is down are each listed once, and a cancel made while it was down shows', async () => {
    const label = 'jobs-gapless';
    const created: string[] = [];
    const page = await openDuringChanges(`/jobs?label=${label}`, '[data-testid=job-row]', async () => {
      created.push(await createJob(gql, { labels: [label] }));
    });
    const listed = () => attributes(page, '[data-testid=job-row]', 'data-job-id');
    await expect.poll(async () => sorted(await listed()), POLL).toEqual(sorted(created));

    await changesWhileDown(async (other) => {
      for (let i = 0; i < 5; i++) created.push(await createJob(other, { labels: [label] }));
      await cancelJob(other, created[0]!);
    });
    await expect.poll(async () => sorted(await listed()), POLL).toEqual(sorted(created));
    await expect
      .poll(() => page.locator(`[data-testid=job-row][data-job-id="${created[0]}"]`).getAttribute('data-status'), POLL)
      .toBe('CANCELLED');
    expect(await notReloaded(page)).toBe(true);
    await shot(page, 'jobs');
  });

  it('experiments: experiments created while the list loads and while the server is down are each listed once, and a pause and a new trial made while it was down show', async () => {
    const created: string[] = [];
    const page = await openDuringChanges('/experiments', '[data-testid=experiment-row]', async (i) => {
      created.push(await createExperiment(gql, `gapless-${i}`));
    });
    const listed = () => attributes(page, '[data-testid=experiment-row]', 'data-experiment-id');
    await expect.poll(async () => sorted(await listed()), POLL).toEqual(sorted(created));

    await changesWhileDown(async (other) => {
      for (let i = 0; i < 3; i++) created.push(await createExperiment(other, `gapless-down-${i}`));
      ok(
        await other('mutation($id: ID!) { pauseExperiment(input: { experimentId: $id }) { id } }', { id: created[0] }),
      );
      // A job status change (the other feed, jobStatusChanged, resumed from its position).
      await createJob(other, { experimentId: created[1] });
    });
    await expect.poll(async () => sorted(await listed()), POLL).toEqual(sorted(created));
    await expect
      .poll(() => page.locator(`[data-experiment-id="${created[0]}"] .status`).textContent(), POLL)
      .toBe('PAUSED');
    await expect
      .poll(
        () =>
          page
            .locator(`[data-experiment-id="${created[1]}"] [data-testid=count-queued] .job-count-value`)
            .textContent(),
        POLL,
      )
      .toBe('1');
    expect(await notReloaded(page)).toBe(true);
    await shot(page, 'experiments');
  });

  it('experiment: trials created while its page loads and while the server is down each appear once, and a cancel made while it was down shows', async () => {
    const experimentId = await createExperiment(gql, 'gapless-trials');
    const created: string[] = [];
    const page = await openDuringChanges(`/experiments/${experimentId}`, '[data-testid=leaderboard-row]', async (i) => {
      created.push(await createJob(gql, { experimentId, hyperparameters: { i } }));
    });
    const trialLinks = async () =>
      (await attributes(page, '[data-testid=leaderboard-row] a[href^="/jobs/"]', 'href')).map((href) =>
        decodeURIComponent(href.slice('/jobs/'.length)),
      );
    await expect.poll(async () => sorted(await trialLinks()), POLL).toEqual(sorted(created));

    await changesWhileDown(async (other) => {
      for (let i = 0; i < 5; i++) created.push(await createJob(other, { experimentId, hyperparameters: { down: i } }));
      await cancelJob(other, created[0]!);
    });
    await expect.poll(async () => sorted(await trialLinks()), POLL).toEqual(sorted(created));
    const cancelledRow = page.locator('[data-testid=leaderboard-row]', {
      has: page.locator(`a[href="/jobs/${created[0]}"]`),
    });
    await expect.poll(() => cancelledRow.textContent(), POLL).toContain('CANCELLED');
    expect(await notReloaded(page)).toBe(true);
    await shot(page, 'experiment');
  });

  it('workers: jobs claimed while the page loads and while the server is down each show once, and one completed while it was down leaves', async () => {
    const experimentId = await createExperiment(gql, 'gapless-workers');
    const running: { jobId: string; leaseToken: string }[] = [];
    const claimOne = async (g: Gql) => {
      await createJob(g, { experimentId });
      running.push(await claim(g, { experimentId, workerId: 'gapless-worker' }));
    };
    const page = await openDuringChanges('/workers', '[data-testid=worker-job]', () => claimOne(gql));
    const shown = () => attributes(page, '[data-testid=worker-job]', 'data-job-id');
    await expect.poll(async () => sorted(await shown()), POLL).toEqual(sorted(running.map((r) => r.jobId)));

    await changesWhileDown(async (other) => {
      for (let i = 0; i < 3; i++) await claimOne(other);
      await complete(other, running.shift()!);
    });
    await expect.poll(async () => sorted(await shown()), POLL).toEqual(sorted(running.map((r) => r.jobId)));
    expect(await notReloaded(page)).toBe(true);
    await shot(page, 'workers');
  });

  it('mappings: states mapped while the page loads and while the server is down each show once, and a job trained while it was down shows SUCCEEDED', async () => {
    const interactionId = 'GapInteraction';
    const algorithmId = 'GapAlgorithm';
    ok(
      await gql('mutation($i: RegisterAlgorithmInput!) { registerAlgorithm(input: $i) { algorithmId } }', {
        i: { interactionId, algorithmId, algorithmVersion: 1 },
      }),
    );
    const states: string[] = [];
    const map = async (g: Gql, stateName: string) => {
      ok(
        await g('mutation($i: CreateTrainingJobsInput!) { createTrainingJobs(input: $i) { stateName } }', {
          i: {
            entityId: 'gap-entity',
            entityVersion: 1,
            states: [{ stateName, interactionId, trainingData: [stateName] }],
          },
        }),
      );
      states.push(stateName);
    };
    const page = await openDuringChanges('/mappings?entity=gap-entity', '[data-testid=mapping-row]', (i) =>
      map(gql, `s${i}`),
    );
    const shown = () => attributes(page, '[data-testid=mapping-row]', 'data-state');
    await expect.poll(async () => sorted(await shown()), POLL).toEqual(sorted(states));

    let trained = '';
    await changesWhileDown(async (other) => {
      for (let i = 0; i < 3; i++) await map(other, `down${i}`);
      const lease = await claim(other, { algorithmIds: [algorithmId], workerId: 'gapless-trainer' });
      await complete(other, lease);
      trained = lease.jobId;
    });
    await expect.poll(async () => sorted(await shown()), POLL).toEqual(sorted(states));
    await expect
      .poll(() => page.locator(`[data-testid=mapping-row][data-job-id="${trained}"]`).textContent(), POLL)
      .toContain('SUCCEEDED');
    expect(await notReloaded(page)).toBe(true);
    await shot(page, 'mappings');
  });

  describe('given the subscribe reaches the server only after the first read and after changes', () => {
    it('jobs: the jobs created and cancelled in between show', async () => {
      const label = 'held-jobs';
      const first = await createJob(gql, { labels: [label] });
      const { page, release } = await openWithSubscribesHeld(`/jobs?label=${label}`, '[data-testid=job-row]');
      const later = [await createJob(gql, { labels: [label] }), await createJob(gql, { labels: [label] })];
      await cancelJob(gql, first);
      release();
      const listed = () => attributes(page, '[data-testid=job-row]', 'data-job-id');
      await expect.poll(async () => sorted(await listed()), POLL).toEqual(sorted([first, ...later]));
      await expect
        .poll(() => page.locator(`[data-testid=job-row][data-job-id="${first}"]`).getAttribute('data-status'), POLL)
        .toBe('CANCELLED');
    });

    it('job: a cancel made in between shows, with no change after it to carry it', async () => {
      const jobId = await createJob(gql, { labels: ['held-job'] });
      const { page, release } = await openWithSubscribesHeld(`/jobs/${jobId}`, '[data-testid=job-status]');
      await cancelJob(gql, jobId);
      release();
      await expect.poll(() => page.getByTestId('job-status').textContent(), POLL).toBe('CANCELLED');
    });

    it('experiment: the trials created in between appear', async () => {
      const experimentId = await createExperiment(gql, 'held-trials');
      const first = await createJob(gql, { experimentId });
      const { page, release } = await openWithSubscribesHeld(
        `/experiments/${experimentId}`,
        '[data-testid=leaderboard-row]',
      );
      const later = [await createJob(gql, { experimentId }), await createJob(gql, { experimentId })];
      release();
      const trialLinks = async () =>
        (await attributes(page, '[data-testid=leaderboard-row] a[href^="/jobs/"]', 'href')).map((href) =>
          href.slice('/jobs/'.length),
        );
      await expect.poll(async () => sorted(await trialLinks()), POLL).toEqual(sorted([first, ...later]));
    });

    it('experiments: a trial claimed in between is counted as running', async () => {
      const experimentId = await createExperiment(gql, 'held-experiments');
      await createJob(gql, { experimentId });
      const { page, release } = await openWithSubscribesHeld('/experiments', `[data-experiment-id="${experimentId}"]`);
      await claim(gql, { experimentId, workerId: 'held-experiments-worker' });
      release();
      await expect
        .poll(
          () =>
            page
              .locator(`[data-experiment-id="${experimentId}"] [data-testid=count-running] .job-count-value`)
              .textContent(),
          POLL,
        )
        .toBe('1');
    });

    it('workers: a job claimed in between shows', async () => {
      const experimentId = await createExperiment(gql, 'held-workers');
      await createJob(gql, { experimentId });
      const first = await claim(gql, { experimentId, workerId: 'held-worker' });
      const { page, release } = await openWithSubscribesHeld(
        '/workers',
        `[data-testid=worker-job][data-job-id="${first.jobId}"]`,
      );
      await createJob(gql, { experimentId });
      const second = await claim(gql, { experimentId, workerId: 'held-worker' });
      release();
      await expect
        .poll(() => page.locator(`[data-testid=worker-job][data-job-id="${second.jobId}"]`).count(), POLL)
        .toBe(1);
    });

    it('mappings: a job trained in between shows SUCCEEDED, and a state mapped after it shows', async () => {
      const interactionId = 'HeldInteraction';
      const algorithmId = 'HeldAlgorithm';
      ok(
        await gql('mutation($i: RegisterAlgorithmInput!) { registerAlgorithm(input: $i) { algorithmId } }', {
          i: { interactionId, algorithmId, algorithmVersion: 1 },
        }),
      );
      const map = (stateName: string) =>
        gql('mutation($i: CreateTrainingJobsInput!) { createTrainingJobs(input: $i) { stateName } }', {
          i: {
            entityId: 'held-entity',
            entityVersion: 1,
            states: [{ stateName, interactionId, trainingData: [stateName] }],
          },
        }).then(ok);
      await map('first');
      const { page, release } = await openWithSubscribesHeld(
        '/mappings?entity=held-entity',
        '[data-testid=mapping-row]',
      );
      const lease = await claim(gql, { algorithmIds: [algorithmId], workerId: 'held-trainer' });
      await complete(gql, lease);
      release();
      await expect
        .poll(() => page.locator(`[data-testid=mapping-row][data-job-id="${lease.jobId}"]`).textContent(), POLL)
        .toContain('SUCCEEDED');
      await map('second');
      await expect
        .poll(async () => sorted(await attributes(page, '[data-testid=mapping-row]', 'data-state')), POLL)
        .toEqual(['first', 'second']);
    });
  });

  it('then no request left the machine', () => {
    expect(requests.offsite()).toEqual([]);
  });
});
