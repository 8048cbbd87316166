/**
 * Debian's Chromium (/usr/bin/chromium, which .ci/run installs), driven by
 * playwright-core: nothing here downloads a browser. Free of vitest, so the
 * bench (bench/scenarios/dashboard.ts) launches it the same way the tests do.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Request, type WebSocket } from 'playwright-core';

/** Debian's package; TRIALOG_TEST_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.TRIALOG_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * What Chromium needs on these machines (see /work/shared/notes/stack.md): no sandbox in a
 * container, no GPU, and none of the background services that would reach hosts it cannot
 * (and must not) reach.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

export const chromiumMissing = (): boolean => !existsSync(CHROMIUM);

export interface LaunchedChromium {
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** A headless Chromium on a fresh profile (a new --user-data-dir, removed on close). */
export async function launchChromium(
  options: { extraArgs?: string[]; viewport?: { width: number; height: number }; deviceScaleFactor?: number } = {},
): Promise<LaunchedChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'trialog-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
      viewport: options.viewport ?? { width: 1280, height: 800 },
      deviceScaleFactor: options.deviceScaleFactor,
    });
    return {
      context,
      async close() {
        await context.close().catch(() => {});
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}

/** URLs that never leave the page: inline data, blobs, the blank page. */
const IN_PAGE = /^(data|blob|about):/;

/**
 * Every request the browser makes (pages, workers, WebSockets), recorded; any to a host other than
 * `origin`'s is refused before it leaves (and still recorded, so a test can fail on it).
 */
export interface RequestLog {
  /** Every URL requested, in order. */
  readonly urls: string[];
  /** The requests that went (or tried to go) anywhere but the server. */
  offsite(): string[];
  /** Requests seen for `/` and below (documents, scripts, styles), with their encoded (transfer) sizes. */
  readonly requests: Request[];
}

export async function recordRequests(
  context: BrowserContext,
  origin: string,
  options: { block?: boolean } = {},
): Promise<RequestLog> {
  const home = new URL(origin);
  const local = (url: string) => {
    if (IN_PAGE.test(url)) return true;
    const target = new URL(url);
    return target.hostname === home.hostname && target.port === home.port;
  };
  const urls: string[] = [];
  const requests: Request[] = [];
  context.on('request', (request) => {
    urls.push(request.url());
    requests.push(request);
  });
  const watchSockets = (page: { on(event: 'websocket', listener: (socket: WebSocket) => void): unknown }) =>
    page.on('websocket', (socket) => urls.push(socket.url()));
  for (const page of context.pages()) watchSockets(page);
  context.on('page', watchSockets);
  if (options.block !== false)
    await context.route(
      (url) => !local(url.href),
      (route) => route.abort('blockedbyclient'),
    );
  return { urls, requests, offsite: () => urls.filter((url) => !local(url)) };
}
