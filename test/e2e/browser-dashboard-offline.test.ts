/**
 * Given a Trialog serving its built dashboard, when a real browser opens the dashboard and
 * GraphiQL, then both render, every request either page makes (their workers' included) goes
 * to this server alone, and neither breaks its Content-Security-Policy.
 *
 * The browser is Debian's Chromium (/usr/bin/chromium, which .ci/run installs) driven by
 * playwright-core; no browser is ever downloaded. Any host name other than the server's
 * resolves to nothing, so a request meant for a CDN fails here as it would offline, and is
 * still recorded.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DASHBOARD_DIR } from '../../src/config.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const chromiumMissing = !existsSync(CHROMIUM);

interface Visit {
  /** Every URL the page (or a worker of it) asked for, WebSockets included. */
  requests: string[];
  /** CSP violations, from the page's `securitypolicyviolation` events and the console. */
  violations: string[];
}

/**
 * Opens `path` in a fresh tab, recording its requests and policy violations until `ready` holds
 * (`beforeLoad` runs before the page starts loading, to wait for something it does early).
 */
async function visit(
  browser: BrowserContext,
  origin: string,
  path: string,
  ready: (page: Page) => Promise<unknown>,
  beforeLoad: (page: Page) => void = () => {},
): Promise<Visit> {
  const page = await browser.newPage();
  beforeLoad(page);
  const seen: Visit = { requests: [], violations: [] };
  page.on('request', (request) => seen.requests.push(request.url()));
  page.on('websocket', (socket) => seen.requests.push(socket.url()));
  page.on('worker', (worker) => seen.requests.push(worker.url()));
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text()))
      seen.violations.push(`console: ${message.text().slice(0, 300)}`);
  });
  await page.addInitScript(() => {
    const found: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = found;
    document.addEventListener('securitypolicyviolation', (event) =>
      found.push(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'}`),
    );
  });
  try {
    await page.goto(origin + path);
    await ready(page);
    // Whatever the page asks for once it has drawn (lazy chunks, fonts, icons) is asked for by now.
    await page.waitForLoadState('networkidle');
    seen.violations.push(
      ...(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)),
    );
  } finally {
    await page.close();
  }
  return seen;
}

/** The requests that would leave the machine: any with an origin other than the server's (data: stays in the page). */
function leaving(requests: string[], origin: string): string[] {
  const wsOrigin = origin.replace(/^http/, 'ws');
  return requests.filter((url) => {
    if (url.startsWith('data:')) return false;
    const parsed = new URL(url);
    // A blob: URL's origin is the page's that made it.
    const own = parsed.protocol === 'blob:' ? new URL(parsed.pathname).origin : parsed.origin;
    return own !== origin && own !== wsOrigin;
  });
}

describe.skipIf(chromiumMissing)(
  `the dashboard and GraphiQL in a real browser, offline${chromiumMissing ? ` (skipped: ${CHROMIUM} is missing; apt-get install -y chromium)` : ''}`,
  () => {
    let t: TestServer;
    let origin: string;
    let browser: BrowserContext;
    let profile: string;

    beforeAll(async () => {
      if (!existsSync(join(DEFAULT_DASHBOARD_DIR, 'index.html'))) {
        throw new Error(
          `the dashboard is not built (${DEFAULT_DASHBOARD_DIR}/index.html is missing): run \`npm run build:dashboard\` first (npm ci runs it)`,
        );
      }
      t = await startTestServer(); // open, on loopback: the quick start
      origin = `http://127.0.0.1:${t.server.port}`;
      profile = mkdtempSync(join(tmpdir(), 'trialog-chromium-'));
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          ...CHROMIUM_ARGS,
          // As on a machine with no internet: every other name fails to resolve (the request is still seen).
          '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        ],
      });
    });

    afterAll(async () => {
      await browser?.close();
      await t?.stop();
      if (profile) rmSync(profile, { recursive: true, force: true });
    });

    it('when the dashboard is opened at /, then its top bar renders and a WebSocket to /graphql opens, from this server alone, with no policy violation', async () => {
      let socket = '';
      const seen = await visit(browser, origin, '/', async (page) => {
        await page.locator('header.topbar nav a').first().waitFor({ state: 'visible' });
        // The views' subscriptions go over a WebSocket to /graphql: connect-src 'self' lets it open.
        socket = await page.evaluate(
          () =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
              ws.onopen = () => {
                ws.close();
                resolve('open');
              };
              ws.onerror = () => resolve('failed');
            }),
        );
      });
      expect(socket).toBe('open');
      // The page did load its bundle (so the checks below saw real traffic).
      expect(seen.requests.some((url) => url.startsWith(`${origin}/assets/`) && url.endsWith('.js'))).toBe(true);
      expect(seen.requests.some((url) => url.startsWith(`${origin}/assets/`) && url.endsWith('.css'))).toBe(true);
      expect(leaving(seen.requests, origin)).toEqual([]);
      expect(seen.violations).toEqual([]);
    });

    it('when a deep link to a view is opened, then the dashboard renders there too', async () => {
      const seen = await visit(browser, origin, '/experiments/abc?sort=objective', (page) =>
        page.locator('header.topbar').waitFor({ state: 'visible' }),
      );
      expect(leaving(seen.requests, origin)).toEqual([]);
      expect(seen.violations).toEqual([]);
    });

    it('when GraphiQL is opened at /graphql, then its editor renders and it reads the schema, from this server alone, with no policy violation', async () => {
      let schemaRead = false;
      let introspection: Promise<Response> | undefined;
      let workerStarted: Promise<unknown> | undefined;
      const seen = await visit(
        browser,
        origin,
        '/graphql',
        async (page) => {
          await page.locator('.graphiql-query-editor .monaco-editor').first().waitFor({ state: 'visible' });
          schemaRead = (await (await introspection!).json()).data?.__schema !== undefined;
          await workerStarted;
        },
        (page) => {
          introspection = page.waitForResponse(
            (response) =>
              response.url() === `${origin}/graphql` && response.request().method() === 'POST' && response.ok(),
          );
          workerStarted = page.waitForEvent('worker');
        },
      );
      expect(schemaRead).toBe(true);
      // Monaco's workers come from blob: URLs the page made: the server's own origin.
      expect(seen.requests.some((url) => url.startsWith('blob:'))).toBe(true);
      expect(leaving(seen.requests, origin)).toEqual([]);
      expect(seen.violations).toEqual([]);
    });
  },
);
