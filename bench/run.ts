/**
 * `npm run bench`: Trialog's hot paths against their limits, on loopback, each
 * scenario on a real server (src/main.ts in its own process) over a fresh
 * store. Prints a table and writes it to BENCHMARKS.md with the machine, the
 * Node version and the date. `--quick` runs every scenario briefly (a smoke
 * run; its numbers are not the ones to quote).
 *
 * Bounded: about 11 minutes on a 2-core machine and 7 GB of scratch disk (`--quick`: about 3 minutes).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScenarioResult } from './result.js';
import { durableAppendCeiling, trivialQueryCeiling } from './scenarios/ceilings.js';
import { DASHBOARD_SIZES, QUICK_DASHBOARD_SIZES, dashboardScenario } from './scenarios/dashboard.js';
import { liveFanOut } from './scenarios/fanout.js';
import { metricIngestion } from './scenarios/ingestion.js';
import { trialLifecycle } from './scenarios/lifecycle.js';
import { logStreaming } from './scenarios/logs.js';
import { findOptuna, optunaLifecycle } from './scenarios/peer.js';
import { replayAndStart } from './scenarios/replay.js';
import { QUICK_SCALE_SIZES, SCALE_SIZES, scale } from './scenarios/scale.js';
import { FULL_QUALITY, QUICK_QUALITY, tpeQuality } from './scenarios/tpe-quality.js';

const quick = process.argv.includes('--quick');
const DASHBOARD_HEADING = '## Dashboard, in the browser';
/**
 * `--only=scale`: just the scale scenario (it writes no BENCHMARKS.md). `--only=dashboard`: just the
 * dashboard in the browser; without --quick it rewrites BENCHMARKS.md's dashboard section alone.
 * `--only=lifecycle,ingestion,logs,replay` (any of these, with fanout): those scenarios and the
 * ceilings they are compared with, for a before/after comparison in minutes rather than the whole run.
 * `--only=tpe`: just TPE's quality against Optuna's (printed; BENCHMARKS.md left as it was).
 */
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const CORE_SCENARIOS = ['lifecycle', 'ingestion', 'fanout', 'logs', 'replay'] as const;
const chosen = new Set(only?.split(','));
const runs = (scenario: (typeof CORE_SCENARIOS)[number]) => only === undefined || chosen.has(scenario);
const seconds = quick ? 2 : 8;
const dir = mkdtempSync(join(tmpdir(), 'trialog-bench-'));
const rows: ScenarioResult[] = [];
const dashboardRows: ScenarioResult[] = [];
const log = (message: string) => console.error(`[bench] ${message}`);

function record(row: ScenarioResult): void {
  rows.push(row);
  const cpu = row.serverCpu ? ` (server CPU ${row.serverCpu.ms.toFixed(3)} ms per ${row.serverCpu.per})` : '';
  log(`${row.scenario}: ${format(row.rate)} ${row.unit}${cpu}`);
}

try {
  const started = performance.now();
  if (CORE_SCENARIOS.some(runs)) {
    const http = await trivialQueryCeiling(dir, 32, quick ? 2 : 5);
    record(http);
    const disk = await durableAppendCeiling(dir, quick ? 2 : 5);
    record(disk);

    let eightWorkers: ScenarioResult | undefined;
    for (const workers of runs('lifecycle') ? [1, 8, 32] : []) {
      for (const reports of ['batched', 'single'] as const) {
        const row = await trialLifecycle(dir, workers, reports, seconds);
        const requestRate = row.rate * row.requestsPerTrial;
        row.ofCeiling = { ceiling: 'trivial query', ratio: requestRate / http.rate };
        row.note = `${row.requestsPerTrial.toFixed(2)} requests per trial, ${format(requestRate)} requests/s`;
        if (workers === 8 && reports === 'batched') {
          eightWorkers = row;
          const share = http.rate / row.requestsPerTrial;
          row.target = {
            text: `>= 440 trials/s and >= 60% of ${format(share)} (ceiling / requests per trial)`,
            met: row.rate >= 440 && row.rate >= 0.6 * share,
          };
        }
        record(row);
      }
    }
    if (runs('lifecycle')) {
      // As `trialog worker` claims: with a token of its own, unique in the log through the token's stream.
      const withTokens = await trialLifecycle(dir, 8, 'batched', seconds, 'worker');
      withTokens.note = `${withTokens.requestsPerTrial.toFixed(2)} requests per trial; compare the row with the server's tokens`;
      record(withTokens);
    }

    const optuna = runs('lifecycle') ? findOptuna() : undefined;
    if (optuna) {
      for (const workers of [1, 8]) {
        const peer = optunaLifecycle(dir, optuna, workers, seconds);
        record(peer);
        if (workers === 8 && eightWorkers)
          eightWorkers.note += `; ${(eightWorkers.rate / peer.rate).toFixed(1)}× the peer's 8 workers`;
      }
    } else if (runs('lifecycle')) {
      log('peer skipped: no python3 with optuna (set PYTHON to one that has it)');
    }

    if (runs('ingestion')) {
      const ingestion = await metricIngestion(dir, 4, seconds);
      ingestion.ofCeiling = {
        ceiling: 'durable append',
        ratio: ingestion.requests / ingestion.elapsedSeconds / disk.rate,
      };
      ingestion.target = { text: '>= 100,000 points/s', met: ingestion.rate >= 100_000 };
      record(ingestion);
    }

    if (runs('fanout')) {
      const fanout = await liveFanOut(dir, quick ? 200 : 1000, 10, quick ? 3 : 10);
      fanout.target = {
        text: 'p99 <= 100 ms, none missed',
        met: fanout.latency!.summary.p99 <= 100 && fanout.missed === 0,
      };
      record(fanout);
    }

    for (const subscriber of runs('logs') ? (['none', 'jobLogs', 'jobLogBatches'] as const) : []) {
      const logs = await logStreaming(dir, seconds, subscriber);
      logs.ofCeiling = { ceiling: 'durable append', ratio: logs.appendCalls / logs.elapsedSeconds / disk.rate };
      logs.target =
        subscriber !== 'none'
          ? { text: '>= 100,000 lines/s, all delivered', met: logs.rate >= 100_000 && logs.delivered === logs.appended }
          : { text: '>= 100,000 lines/s', met: logs.rate >= 100_000 };
      record(logs);
    }

    if (runs('replay')) {
      const events = quick ? 100_000 : 1_000_000;
      log(`writing a ${format(events)}-event log`);
      const replay = await replayAndStart(dir, events);
      for (const row of replay.rows) record(row);
    }
  }

  if (only === undefined || only === 'scale')
    for (const row of await scale(dir, quick ? QUICK_SCALE_SIZES : SCALE_SIZES, log)) record(row);

  let tpeSection = '';
  if (only === undefined || only === 'tpe') {
    tpeSection = tpeQuality(quick ? QUICK_QUALITY : FULL_QUALITY, findOptuna()?.python, log);
  }

  const dashboardStarted = performance.now();
  if (only === undefined || only === 'dashboard') {
    for (const row of await dashboardScenario(dir, quick ? QUICK_DASHBOARD_SIZES : DASHBOARD_SIZES, log)) {
      dashboardRows.push(row);
      log(`${row.scenario}: ${format(row.rate)} ${row.unit}`);
    }
  }
  const dashboardSection = renderDashboard(dashboardRows, (performance.now() - dashboardStarted) / 1000, quick);

  const benchmarks = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
  if (only === 'tpe') {
    console.log(tpeSection);
  } else if (only === 'dashboard') {
    console.log(dashboardSection);
    if (!quick && dashboardRows.length > 0)
      writeFileSync(
        benchmarks,
        replaceDashboardSection(existsSync(benchmarks) ? readFileSync(benchmarks, 'utf8') : '', dashboardSection),
      );
    else log('quick run (or no Chromium): BENCHMARKS.md left as it was');
  } else {
    const report =
      render(rows, (performance.now() - started) / 1000, quick) +
      (tpeSection ? `\n${tpeSection}` : '') +
      (dashboardRows.length ? `\n${dashboardSection}` : '');
    console.log(report);
    if (!quick && only === undefined) writeFileSync(benchmarks, report);
    else log('quick or partial run: BENCHMARKS.md left as it was');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function render(results: ScenarioResult[], totalSeconds: number, isQuick: boolean): string {
  const cpu = cpus();
  const header = [
    '# Trialog benchmarks',
    '',
    `Written by \`npm run bench\`${isQuick ? ' --quick' : ''} on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} × ${cpu[0]?.model.trim()}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}; SQLite with synchronous=FULL; ` +
      `load generated on the same machine over loopback; ${Math.round(totalSeconds)} s in all.`,
    '',
    'Latency in ms. Memory: the server process\'s peak resident set during the scenario (MiB). "of ceiling": the',
    "scenario's requests (or appends) per second over the ceiling measured in the same run.",
    '',
  ];
  const table = [
    '| scenario | rate | latency of | p50 | p99 | max | memory | of ceiling | target | note |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- | --- |',
    ...results.map((r) => {
      const l = r.latency?.summary;
      return [
        r.scenario,
        `${format(r.rate)} ${r.unit}`,
        r.latency?.of ?? '',
        l ? ms(l.p50) : '',
        l ? ms(l.p99) : '',
        l ? ms(l.max) : '',
        r.peakMiB ? String(Math.round(r.peakMiB)) : '',
        r.ofCeiling ? `${Math.round(r.ofCeiling.ratio * 100)}% of ${r.ofCeiling.ceiling}` : '',
        r.target ? `${r.target.met ? 'met' : 'NOT met'}: ${r.target.text}` : '',
        r.note ?? '',
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .concat(' |');
    }),
  ];
  return [...header, ...table, ''].join('\n');
}

/** The dashboard's figures: a section of their own, measured in Chromium (see bench/scenarios/dashboard.ts). */
function renderDashboard(results: ScenarioResult[], totalSeconds: number, isQuick: boolean): string {
  const cpu = cpus();
  return [
    DASHBOARD_HEADING,
    '',
    `Written by \`npm run bench -- --only=dashboard${isQuick ? ' --quick' : ''}\` (or a whole \`npm run bench\`) on ${new Date().toISOString().slice(0, 10)}: ` +
      `${cpu.length} × ${cpu[0]?.model.trim()}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, headless Chromium ` +
      `(${process.env.TRIALOG_TEST_CHROMIUM ?? '/usr/bin/chromium'}) and the server on the same machine; ${Math.round(totalSeconds)} s in all, seeding included.`,
    '',
    'Times are in the page\'s own clock, from the navigation\'s start; "usable" is the first animation frame at which the page holds',
    "a leaderboard row, or at which a chart's canvas has painted (bench/scenarios/dashboard.ts says exactly what each row measures).",
    '',
    '| scenario | figure | target | note |',
    '| --- | ---: | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.scenario} | ${format(r.rate)} ${r.unit} | ${r.target ? `${r.target.met ? 'met' : 'NOT met'}: ${r.target.text}` : ''} | ${r.note ?? ''} |`,
    ),
    '',
  ].join('\n');
}

/** BENCHMARKS.md with its dashboard section (the last one) replaced, or added. */
function replaceDashboardSection(current: string, section: string): string {
  const at = current.indexOf(DASHBOARD_HEADING);
  const before = at === -1 ? current : current.slice(0, at);
  return `${before.trimEnd()}\n\n${section}`;
}

function format(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(n >= 10 ? 1 : 2);
}

function ms(n: number): string {
  return Number.isNaN(n) ? '' : n.toFixed(n >= 100 ? 0 : 1);
}
