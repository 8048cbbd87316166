/**
 * Dashboard: the web UI measured in a real browser (Debian's Chromium,
 * headless, on this machine, sharing its cores with the server), against a
 * server process on a store seeded with a large experiment and a long series.
 *
 * What is measured, each in the page's own clock (performance.now(), from the
 * navigation's start), so the bench's round trips to the browser add nothing:
 *
 * - **Leaderboard usable**: from navigation start (the experiment's page, its
 *   default tab) to the first animation frame at which the page holds at
 *   least one leaderboard row (`[data-testid=leaderboard-row]`). The frame's
 *   callback runs just before that frame is painted. The cache is disabled,
 *   so each load is a first visit; the median of 3 loads.
 * - **Leaderboard, every trial loaded**: the same, until the page also holds no
 *   "Loading trials…" line: every page of trials read, so sorting and filtering
 *   see them all.
 * - **History usable**: the same for `?tab=history`: the first frame at which
 *   the optimization-history chart's canvas (in the tab panel) has painted,
 *   i.e. has a pixel that is not transparent.
 * - **Series: first chart**: the same, on the page of the job holding the
 *   long series: the first frame at which its metric chart has painted.
 * - **Series: zoom**: a drag-selection over the middle twentieth of the chart;
 *   from the mouse release to the second animation frame after the page read
 *   the body of the last GraphQL response it asked for within 300 ms of the
 *   release (the first frame renders it, the second starts once it is
 *   painted); with no request, to the second frame after the release. Median
 *   of 3 zooms.
 * - **Frames per second under changes**: the experiment page open while the
 *   bench reports a metric point on its running trials at a steady rate
 *   (open loop: one call every 1/rate s whatever the answers); animation
 *   frames counted in the page over the period.
 * - **First view transfer**: the files the page loads for `/` (document,
 *   scripts, styles) until the network is idle, counted gzipped (the server's
 *   pre-compressed .gz of each), besides what Chromium was sent (brotli) and
 *   the GraphQL answers.
 *
 * No timing is asserted: a slow machine gives slower figures, not a failure.
 */
import { join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page, Request } from 'playwright-core';
import { chromiumMissing, launchChromium, recordRequests, type LaunchedChromium } from '../../test/helpers/chromium.js';
import { gqlOver } from '../http.js';
import type { ScenarioResult } from '../result.js';
import { startBenchServer, type BenchServer } from '../server.js';
import { summarize } from '../stats.js';
import {
  LEASE_TOKEN,
  createBenchExperiment,
  seedDashboardData,
  type DashboardData,
  type Seeded,
} from './dashboard-seed.js';

export interface DashboardSizes extends DashboardData {
  /** How long the live phase runs, and at what rate it reports. */
  liveSeconds: number;
  changesPerSecond: number;
}

export const DASHBOARD_SIZES: DashboardSizes = {
  trials: 10_000,
  pointsPerTrial: 100,
  runningTrials: 20,
  seriesPoints: 1_000_000,
  liveSeconds: 10,
  changesPerSecond: 100,
};
export const QUICK_DASHBOARD_SIZES: DashboardSizes = {
  trials: 1_000,
  pointsPerTrial: 20,
  runningTrials: 10,
  seriesPoints: 100_000,
  liveSeconds: 3,
  changesPerSecond: 100,
};

const DIST_DIR = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));
const DIST = join(DIST_DIR, 'index.html');
const LOADS = 3;
const ZOOMS = 3;

/** What "usable" looks for: the hooks the views expose (see the views in dashboard/src/views). */
const LEADERBOARD_ROW = '[data-testid=leaderboard-row]';
const HISTORY_CHART = '[role=tabpanel] canvas';
const METRIC_CHART = '[data-testid=metric-chart] canvas';

/**
 * Installed in every page before its own scripts: `fetch` is wrapped to note when each GraphQL
 * answer's body was read, and `waitForFrame(check)` resolves at the first animation frame at
 * which `check()` holds, with that frame's time.
 */
function instrumentPage(): void {
  type Fetched = { start: number; read: number | null };
  const w = window as unknown as { benchFetches: Fetched[]; fetch: typeof fetch };
  w.benchFetches = [];
  const original = window.fetch.bind(window);
  w.fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const entry: Fetched = { start: performance.now(), read: null };
    if (url.includes('/graphql')) w.benchFetches.push(entry);
    const response = await original(input, init);
    const json = response.json.bind(response);
    response.json = async () => {
      const body: unknown = await json();
      entry.read = performance.now();
      return body;
    };
    return response;
  };
}

/** True once a canvas matching `selector` has a pixel that is not transparent (uPlot has drawn on it). */
const painted = (selector: string) => `(() => {
  for (const canvas of document.querySelectorAll(${JSON.stringify(selector)})) {
    if (!canvas.width || !canvas.height) continue;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
  }
  return false;
})()`;

/** The time (page clock) of the first animation frame at which `condition` (an expression) holds. */
async function firstFrameWhere(page: Page, condition: string, timeoutMs = 30_000): Promise<number> {
  return page.evaluate(
    ({ condition, timeoutMs }) =>
      new Promise<number>((resolve, reject) => {
        // The condition is the scenario's own source text, run in the page: never input from outside.
        // eslint-disable-next-line @typescript-eslint/no-implied-eval
        const check = new Function(`return ${condition}`) as () => boolean;
        const give_up = setTimeout(() => reject(new Error(`not within ${timeoutMs} ms: ${condition}`)), timeoutMs);
        const frame = (time: number) => {
          if (check()) {
            clearTimeout(give_up);
            resolve(time);
          } else requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
    { condition, timeoutMs },
  );
}

/** Loads `path` with the cache off; answers when the page became usable (ms from navigation start). */
async function usableAfter(
  browser: LaunchedChromium,
  origin: string,
  path: string,
  condition: string,
): Promise<{ ms: number; page: Page }> {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await page.goto(`${origin}${path}`, { waitUntil: 'commit' });
  const ms = await firstFrameWhere(page, condition);
  return { ms, page };
}

async function zoomOnce(page: Page, chartSelector: string, at: number): Promise<number> {
  const over = page.locator(`${chartSelector} .u-over`).first();
  const box = (await over.boundingBox())!;
  // From the release on, the page notes the time of every animation frame.
  const measured = page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        document.addEventListener(
          'mouseup',
          () => {
            const releasedAt = performance.now();
            const frames: number[] = [];
            let measuring = true;
            const frame = () => {
              frames.push(performance.now());
              if (measuring) requestAnimationFrame(frame);
            };
            requestAnimationFrame(frame);
            const fetches = (window as unknown as { benchFetches: { start: number; read: number | null }[] })
              .benchFetches;
            const settle = () => {
              const asked = fetches.filter((f) => f.start >= releasedAt && f.start <= releasedAt + 300);
              const windowOpen = performance.now() < releasedAt + 300;
              if (asked.some((f) => f.read === null) || (asked.length === 0 && windowOpen))
                return void setTimeout(settle, 5);
              // The answers are read: the zoom is painted by the second frame after the last one.
              const anchor = asked.length ? Math.max(...asked.map((f) => f.read!)) : releasedAt;
              const done = () => {
                const after = frames.filter((t) => t > anchor);
                if (after.length < 2) return void setTimeout(done, 5);
                measuring = false;
                resolve(after[1]! - releasedAt);
              };
              done();
            };
            settle();
          },
          { once: true, capture: true },
        );
      }),
  );
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * at, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * (at + 0.05), y, { steps: 4 });
  await page.mouse.up();
  return measured;
}

/** Reports a point on a running trial every 1/rate s for `seconds`; answers how many were answered. */
async function reportAtRate(
  url: string,
  running: string[],
  rate: number,
  seconds: number,
): Promise<{ sent: number; answered: number; failed: number }> {
  const { gql, close } = gqlOver(url, 16);
  let sent = 0;
  let answered = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  try {
    while (performance.now() - started < seconds * 1000) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (sent < due) {
        const jobId = running[sent % running.length]!;
        const call = gql(
          `mutation($j: ID!, $t: String!, $v: Float!) { reportMetrics(input: { jobId: $j, leaseToken: $t, points: [{ name: "loss", value: $v }] }) { shouldStop } }`,
          {
            j: jobId,
            t: LEASE_TOKEN,
            v: 0.1 + Math.random() / 10,
          },
        ).then(
          () => void answered++,
          () => void failed++,
        );
        sent++;
        const tracked = call.finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(inFlight);
  } finally {
    close();
  }
  return { sent, answered, failed };
}

async function countFrames(
  page: Page,
  seconds: number,
  during: () => Promise<unknown>,
): Promise<{ fps: number; longest: number }> {
  await page.evaluate(() => {
    const w = window as unknown as { benchFrames: number[]; benchCounting: boolean };
    w.benchFrames = [];
    w.benchCounting = true;
    const frame = (time: number) => {
      w.benchFrames.push(time);
      if (w.benchCounting) requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  await during();
  const frames = await page.evaluate(() => {
    const w = window as unknown as { benchFrames: number[]; benchCounting: boolean };
    w.benchCounting = false;
    return w.benchFrames;
  });
  const span = (frames[frames.length - 1]! - frames[0]!) / 1000;
  let longest = 0;
  for (let i = 1; i < frames.length; i++) longest = Math.max(longest, frames[i]! - frames[i - 1]!);
  return { fps: (frames.length - 1) / Math.max(span, seconds / 100), longest };
}

/**
 * The first view's weight: every request the page makes for `/` until the network is idle. Chromium
 * always offers brotli, which the server prefers, so the gzip figure is what a gzip-only browser
 * would get: the size of the pre-compressed `.gz` file the server keeps beside each file it served.
 */
async function firstViewBytes(
  browser: LaunchedChromium,
  origin: string,
): Promise<{ gzip: number; transferred: number; api: number; files: number }> {
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const finished: Request[] = [];
  page.on('requestfinished', (request) => void finished.push(request));
  await page.goto(`${origin}/`, { waitUntil: 'networkidle' });
  const seen = await Promise.all(
    finished.map(async (request) => ({
      url: new URL(request.url()),
      bytes: Math.max(0, (await request.sizes()).responseBodySize),
    })),
  );
  await page.close();
  const files = seen.filter((s) => !s.url.pathname.startsWith('/graphql'));
  const gzipOf = (pathname: string) => {
    const file = join(DIST_DIR, pathname.startsWith('/assets/') ? pathname : 'index.html');
    return statSync(existsSync(`${file}.gz`) ? `${file}.gz` : file).size;
  };
  return {
    gzip: files.reduce((sum, s) => sum + gzipOf(s.url.pathname), 0),
    transferred: files.reduce((sum, s) => sum + s.bytes, 0),
    api: seen.filter((s) => s.url.pathname.startsWith('/graphql')).reduce((sum, s) => sum + s.bytes, 0),
    files: files.length,
  };
}

export async function dashboardScenario(
  dir: string,
  sizes: DashboardSizes,
  log: (message: string) => void,
): Promise<ScenarioResult[]> {
  if (chromiumMissing()) {
    log('dashboard skipped: no Chromium (apt-get install -y chromium)');
    return [];
  }
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: npm run build:dashboard (npm ci runs it)`);
  const dbPath = join(dir, 'dashboard.db');
  const experimentName = 'bench-dashboard';

  log(
    `dashboard: seeding ${sizes.trials.toLocaleString('en-US')} trials of ${sizes.pointsPerTrial} points and a ${sizes.seriesPoints.toLocaleString('en-US')}-point series`,
  );
  let server: BenchServer = await startBenchServer(dbPath);
  const { gql, close } = gqlOver(server.url, 2);
  const experiment = await createBenchExperiment(gql, experimentName, sizes);
  close();
  await server.stop();
  const seededAt = performance.now();
  const seeded: Seeded = await seedDashboardData(dbPath, experiment, sizes);
  log(
    `dashboard: written in ${((performance.now() - seededAt) / 1000).toFixed(1)} s; starting the server (it catches its read models up)`,
  );
  server = await startBenchServer(dbPath);
  log(`dashboard: serving after ${(server.startMs / 1000).toFixed(1)} s`);
  const origin = new URL(server.url).origin;
  const browser = await launchChromium({ viewport: { width: 1280, height: 800 } });
  const rows: ScenarioResult[] = [];
  try {
    // tsx (esbuild, keepNames) wraps the bench's functions in `__name(...)` calls, which then run in the
    // page when passed to page.evaluate: the page gets a `__name` that does what esbuild's does.
    await browser.context.addInitScript({ content: 'globalThis.__name = (target) => target;' });
    await browser.context.addInitScript(instrumentPage);
    const requests = await recordRequests(browser.context, origin, { block: false });
    const experimentPath = `/experiments/${encodeURIComponent(seeded.experimentId)}`;
    const leaderboardUsable = `document.querySelector(${JSON.stringify(LEADERBOARD_ROW)}) !== null`;
    const views = [
      { name: 'leaderboard', path: experimentPath, condition: leaderboardUsable, what: 'a leaderboard row painted' },
      {
        name: 'optimization history',
        path: `${experimentPath}?tab=history`,
        condition: painted(HISTORY_CHART),
        what: 'its chart painted',
      },
      // The first row shows before every trial is read; sorting the whole leaderboard needs them all.
      {
        name: 'leaderboard, every trial loaded',
        path: experimentPath,
        condition: `${leaderboardUsable} && document.querySelector('[data-testid=trials-loading]') === null`,
        what: 'all pages read, no "Loading trials" left',
      },
    ];
    // A view that never becomes usable gives a row saying so, and the other figures are still taken.
    const measure = async (scenario: string, target: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        log(`dashboard: ${scenario}: ${(error as Error).message.split('\n')[0]}`);
        rows.push({
          scenario: `dashboard: ${scenario}`,
          rate: Number.NaN,
          unit: '',
          target: { text: target, met: false },
          note: `not measured: ${(error as Error).message.split('\n')[0]}`,
        });
      }
    };
    for (const view of views) {
      await measure(`${view.name} usable`, '<= 1,500 ms', async () => {
        const loads: number[] = [];
        for (let i = 0; i < LOADS; i++) {
          const { ms, page } = await usableAfter(browser, origin, view.path, view.condition).catch(
            async (error: Error) => {
              for (const open of browser.context.pages()) await open.close();
              throw error;
            },
          );
          loads.push(ms);
          await page.close();
        }
        const load = summarize(loads);
        rows.push({
          scenario: `dashboard: ${view.name} of ${sizes.trials.toLocaleString('en-US')} trials × ${sizes.pointsPerTrial} points usable (${view.what}; cache off)`,
          rate: load.p50,
          unit: 'ms median',
          target: { text: '<= 1,500 ms', met: load.p50 <= 1500 },
          note: `loads ${loads.map((m) => Math.round(m)).join(' / ')} ms`,
        });
        log(`dashboard: ${view.name} usable in ${loads.map((m) => Math.round(m)).join(' / ')} ms`);
      });
    }

    await measure('job page, first chart and zoom of the long series', '<= 1,000 ms, zoom <= 300 ms', async () => {
      const firsts: number[] = [];
      let seriesPage: Page | undefined;
      for (let i = 0; i < LOADS; i++) {
        const { ms, page } = await usableAfter(browser, origin, `/jobs/${seeded.seriesJobId}`, painted(METRIC_CHART));
        firsts.push(ms);
        if (i < LOADS - 1) await page.close();
        else seriesPage = page;
      }
      const first = summarize(firsts);
      rows.push({
        scenario: `dashboard: job page, first chart of a ${sizes.seriesPoints.toLocaleString('en-US')}-point series (cache off)`,
        rate: first.p50,
        unit: 'ms median',
        target: { text: '<= 1,000 ms', met: first.p50 <= 1000 },
        note: `loads ${firsts.map((m) => Math.round(m)).join(' / ')} ms`,
      });
      const zooms: number[] = [];
      for (let i = 0; i < ZOOMS; i++) {
        zooms.push(await zoomOnce(seriesPage!, '[data-testid=metric-chart]', 0.4 + i * 0.1));
        await seriesPage!.dblclick(`[data-testid=metric-chart] .u-over`);
        await seriesPage!.waitForTimeout(500);
      }
      await seriesPage!.close();
      const zoom = summarize(zooms);
      rows.push({
        scenario: `dashboard: zoom into a twentieth of the ${sizes.seriesPoints.toLocaleString('en-US')}-point series (fetch and repaint)`,
        rate: zoom.p50,
        unit: 'ms median',
        target: { text: '<= 300 ms', met: zoom.p50 <= 300 },
        note: `zooms ${zooms.map((m) => Math.round(m)).join(' / ')} ms`,
      });
      log(
        `dashboard: first chart ${firsts.map((m) => Math.round(m)).join(' / ')} ms, zoom ${zooms.map((m) => Math.round(m)).join(' / ')} ms`,
      );
    });

    await measure('frames per second under changes', '>= 30 frames/s', async () => {
      const { page: livePage } = await usableAfter(browser, origin, experimentPath, leaderboardUsable);
      const idle = await countFrames(livePage, 2, () => new Promise((resolve) => setTimeout(resolve, 2000)));
      let reported = { sent: 0, answered: 0, failed: 0 };
      const busy = await countFrames(livePage, sizes.liveSeconds, async () => {
        reported = await reportAtRate(server.url, seeded.running, sizes.changesPerSecond, sizes.liveSeconds);
      });
      await livePage.close();
      rows.push({
        scenario: `dashboard: experiment page while ${sizes.changesPerSecond} metric reports/s reach its running trials, ${sizes.liveSeconds} s`,
        rate: busy.fps,
        unit: 'frames/s',
        target: { text: '>= 30 frames/s', met: busy.fps >= 30 },
        note:
          `${reported.answered} of ${reported.sent} reports answered (${reported.failed} failed), ${(reported.answered / sizes.liveSeconds).toFixed(0)}/s; ` +
          `longest frame ${Math.round(busy.longest)} ms; idle page ${idle.fps.toFixed(0)} frames/s`,
      });
      log(
        `dashboard: ${busy.fps.toFixed(1)} frames/s under ${sizes.changesPerSecond} changes/s (idle ${idle.fps.toFixed(1)})`,
      );
    });

    await measure('first view (/) transferred, gzip', '<= 250 KB', async () => {
      const bytes = await firstViewBytes(browser, origin);
      rows.push({
        scenario: 'dashboard: first view (/): its files gzipped (document, scripts, styles)',
        rate: bytes.gzip / 1024,
        unit: 'KB',
        target: { text: '<= 250 KB', met: bytes.gzip <= 250 * 1024 },
        note: `${bytes.files} files; ${(bytes.transferred / 1024).toFixed(1)} KB transferred as served to Chromium (brotli); ${(bytes.api / 1024).toFixed(1)} KB of GraphQL answers besides`,
      });
      log(
        `dashboard: first view ${(bytes.gzip / 1024).toFixed(1)} KB gzipped, ${(bytes.transferred / 1024).toFixed(1)} KB as transferred`,
      );
    });
    const offsite = requests.offsite();
    if (offsite.length > 0)
      throw new Error(`the dashboard requested hosts other than the server: ${offsite.slice(0, 5).join(', ')}`);
  } finally {
    await browser.close();
    await server.stop();
  }
  return rows;
}
