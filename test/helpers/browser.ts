/**
 * Browser tests of the dashboard: one Chromium per test file (a fresh profile),
 * a Trialog server started as its own process (as `npm start` runs it) serving
 * the built dashboard, a page fixture that records every request and refuses
 * any that would leave the machine, and `trialog worker` processes running a
 * real command (test/fixtures/dashboard/train.mjs).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM,
  chromiumMissing,
  launchChromium,
  recordRequests,
  type LaunchedChromium,
  type RequestLog,
} from './chromium.js';
import { startServerProcess, type ServerProcess } from './process.js';
import { gqlClient, ok, tempDir, type Gql } from './server.js';
import { startWorker, type WorkerProcess } from './worker.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const DASHBOARD_DIST = join(root, 'dashboard', 'dist');
/** The training command the workers run: log lines, a `loss` curve, progress and a result. */
export const TRAIN_SCRIPT = join(root, 'test', 'fixtures', 'dashboard', 'train.mjs');

/** The built dashboard must be there: `npm ci` builds it (`prepare`), CI too; a test must not silently test nothing. */
export function requireDashboardBuild(): void {
  if (!existsSync(join(DASHBOARD_DIST, 'index.html')))
    throw new Error(
      `${DASHBOARD_DIST}/index.html is missing: build the dashboard first (npm run build:dashboard; npm ci runs it)`,
    );
}

const inCI = process.env.CI !== undefined && !['', '0', 'false'].includes(process.env.CI);

/**
 * A describe block that needs Chromium: skipped, saying why, on a machine without it; failing in
 * CI, where .ci/run installs it and a skip would hide a broken set-up.
 */
export function describeInChromium(title: string, body: () => void): void {
  const missing = chromiumMissing();
  if (missing && inCI) {
    describe(title, () => {
      it('needs Chromium', () => {
        throw new Error(
          `${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium); this test may not be skipped in CI`,
        );
      });
    });
    return;
  }
  describe.skipIf(missing)(
    `${title}${missing ? ` (skipped: ${CHROMIUM} is missing; apt-get install -y chromium)` : ''}`,
    body,
  );
}

export interface DashboardServer {
  /** The server's origin, e.g. http://127.0.0.1:43121 (the dashboard is at `/`). */
  origin: string;
  /** Its GraphQL endpoint. */
  url: string;
  adminKey: string;
  /** GraphQL over HTTP as the admin. */
  gql: Gql;
  process: ServerProcess;
  /** Starts `trialog worker` against this server (as the admin): `workerArgs` ends with the command (see `trainCommand`). */
  worker(workerArgs: string[]): WorkerProcess;
  stop(): Promise<void>;
}

/** A server process with an admin key, on a fresh SQLite file, serving the built dashboard. */
export async function startDashboardServer(env: Record<string, string> = {}): Promise<DashboardServer> {
  requireDashboardBuild();
  const dir = tempDir('trialog-dashboard-');
  const adminKey = randomBytes(24).toString('hex');
  const workers: WorkerProcess[] = [];
  let server: ServerProcess;
  try {
    server = await startServerProcess(join(dir.path, 'trialog.db'), { TRIALOG_ADMIN_KEY: adminKey, ...env });
  } catch (error) {
    dir.remove();
    throw error;
  }
  const gql = gqlClient(server.url);
  return {
    origin: new URL(server.url).origin,
    url: server.url,
    adminKey,
    process: server,
    gql: (query, variables, headers) => gql(query, variables, { authorization: `Bearer ${adminKey}`, ...headers }),
    worker(workerArgs) {
      const w = startWorker(
        server.url,
        ['--key', adminKey, '--work-dir', join(dir.path, 'runs'), '--grace', '1', ...workerArgs],
        {
          cwd: dir.path,
          env: {},
        },
      );
      workers.push(w);
      return w;
    },
    async stop() {
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exit));
      await server.kill('SIGKILL');
      dir.remove();
    },
  };
}

/** The worker arguments that run the training script: `['--', node, train.mjs, ...scriptArgs]`. */
export const trainCommand = (...scriptArgs: string[]): string[] => [
  '--',
  process.execPath,
  TRAIN_SCRIPT,
  ...scriptArgs,
];

/**
 * What a browser test file shares: one Chromium (fresh profile), one dashboard server, and the log
 * of every request the browser made, started before the file's tests and stopped after them.
 */
export interface DashboardSession {
  browser: LaunchedChromium;
  server: DashboardServer;
  /** Every request of every tab of the file; any leaving the machine was refused. */
  requests: RequestLog;
}

export function dashboardSessionPerFile(env?: Record<string, string>): DashboardSession {
  const holder: Partial<DashboardSession> = {};
  beforeAll(async () => {
    holder.server = await startDashboardServer(env);
    holder.browser = await launchChromium();
    holder.requests = await recordRequests(holder.browser.context, holder.server.origin);
  }, 60_000);
  afterAll(async () => {
    await holder.browser?.close();
    await holder.server?.stop();
  });
  const need = <K extends keyof DashboardSession>(name: K): DashboardSession[K] => {
    const value = holder[name];
    if (!value) throw new Error(`the browser session has no ${name} (beforeAll failed?)`);
    return value;
  };
  return {
    get browser() {
      return need('browser');
    },
    get server() {
      return need('server');
    },
    get requests() {
      return need('requests');
    },
  };
}

export interface DashboardPage {
  page: Page;
  /** True while the document `openDashboard` loaded is still the one shown (no reload, no full navigation). */
  stillTheSameDocument(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * A tab on the dashboard at `path`, with `key` typed into the page's key field as a person would
 * (null: none), and a marker left in the document that tells later whether the page was reloaded.
 */
export async function openDashboard(
  session: DashboardSession,
  path: string,
  key: string | null,
): Promise<DashboardPage> {
  const page = await session.browser.context.newPage();
  await page.goto(`${session.server.origin}${path}`);
  if (key !== null) await typeKey(page, key);
  await page.evaluate(() => ((window as unknown as { trialogTestDocument: boolean }).trialogTestDocument = true));
  return {
    page,
    stillTheSameDocument: () =>
      page.evaluate(() => (window as unknown as { trialogTestDocument?: boolean }).trialogTestDocument === true),
    close: () => page.close(),
  };
}

/** Types a key into the header's key field and submits it, as a person does. */
export async function typeKey(page: Page, key: string): Promise<void> {
  const field = page.getByLabel('API key');
  // A server that needs a key opens the field by itself once the page learns so; otherwise the header's button opens it.
  await field.waitFor({ state: 'visible', timeout: 5000 }).catch(() => page.locator('.key-button').click());
  await field.fill(key);
  await page.getByRole('button', { name: 'Use key' }).click();
  await expect.poll(() => page.locator('.key-button').textContent(), { timeout: 10_000 }).not.toBe('no key');
}

/** Creates an API key with the admin key; answers the secret. */
export async function createKey(
  server: DashboardServer,
  name: string,
  role: 'ADMIN' | 'EDITOR' | 'VIEWER' | 'WORKER',
): Promise<string> {
  const data = ok(
    await server.gql<{ createApiKey: { key: string } }>(
      'mutation($name: String!, $role: ApiKeyRole!) { createApiKey(input: { name: $name, role: $role }) { key } }',
      { name, role },
    ),
  );
  return data.createApiKey.key;
}
