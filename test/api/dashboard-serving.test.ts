/**
 * The dashboard served by Trialog itself, over real HTTP: its pages (deep links too) answer
 * index.html, its hashed assets go out pre-compressed and immutable, every answer carries a
 * strict Content-Security-Policy, and /graphql (GraphiQL included, now with no CDN) works as
 * before. Needs the built dashboard: `npm run build:dashboard` (npm ci runs it).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DASHBOARD_DIR } from '../../src/config.js';
import { DASHBOARD_CSP, IMMUTABLE } from '../../src/http/dashboard.js';
import { errorCode, ok, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const DIST = DEFAULT_DASHBOARD_DIR;
const ADMIN_KEY = 'dashboard-serving-admin-key-0123456789abcdef';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with exactly these headers; the body as sent on the wire (not decompressed). */
function raw(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      method: options.method ?? 'GET',
      setHost: false,
      headers: { host: `127.0.0.1:${port}`, ...options.headers },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The built bundle's entry script: a hashed name with its .br and .gz beside it. */
function builtScript(): string {
  const name = readdirSync(join(DIST, 'assets')).find((file) => /^index-[\w-]+\.js$/.test(file));
  if (!name) throw new Error(`no hashed index-*.js in ${DIST}/assets`);
  return `/assets/${name}`;
}

beforeAll(() => {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(
      `the dashboard is not built (${DIST}/index.html is missing): run \`npm run build:dashboard\` first (npm ci runs it)`,
    );
  }
});

describe('given a Trialog serving the built dashboard', () => {
  let t: TestServer;
  const index = () => readFileSync(join(DIST, 'index.html'));

  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('when a browser opens /, then it gets index.html, revalidated on every load, under the strict policy', async () => {
    const answer = await raw(t.server.port, '/', { headers: { accept: 'text/html' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.body.equals(index())).toBe(true);
    expect(answer.headers['cache-control']).toBe('no-cache');
    expect(answer.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(answer.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    expect(answer.headers.etag).toBeTruthy();
  });

  it('when a link to one of its views is opened directly (a deep link with a query), then it gets the same index.html', async () => {
    for (const path of ['/experiments/abc?sort=objective', '/jobs/job-1', '/audit', '/workers/']) {
      const answer = await raw(t.server.port, path);
      expect(answer.status, path).toBe(200);
      expect(answer.body.equals(index()), path).toBe(true);
      expect(answer.headers['content-security-policy'], path).toBe(DASHBOARD_CSP);
    }
  });

  it("when a path is neither a view nor a file of the bundle, then it is the API's 404 as before, with no dashboard headers", async () => {
    for (const path of ['/no-such-page', '/experiments/a/b', '/assets/index-gone.js', '/favicon.ico']) {
      const answer = await raw(t.server.port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers['content-security-policy'], path).toBeUndefined();
      expect(answer.headers['cache-control'], path).toBeUndefined();
    }
  });

  it('when a path tries to walk out of the bundle, then nothing outside it is sent', async () => {
    for (const path of [
      '/assets/../../../package.json',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
    ]) {
      const answer = await raw(t.server.port, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body.toString(), path).not.toContain('"name": "trialog"');
    }
  });

  it('when a hashed asset is asked for with brotli accepted, then the brotli file built beside it is sent, immutable for a year', async () => {
    const script = builtScript();
    const answer = await raw(t.server.port, script, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-encoding']).toBe('br');
    expect(answer.headers['content-type']).toMatch(/javascript/);
    expect(answer.headers['cache-control']).toBe(IMMUTABLE);
    expect(IMMUTABLE).toBe('public, max-age=31536000, immutable');
    expect(answer.headers.vary).toMatch(/Accept-Encoding/);
    expect(answer.body.equals(readFileSync(join(DIST, `${script}.br`)))).toBe(true);
    expect(answer.headers['content-security-policy']).toBe(DASHBOARD_CSP);
  });

  it('when only gzip is accepted, then the gzip file is sent; when nothing is, the file as built', async () => {
    const script = builtScript();
    const gzip = await raw(t.server.port, script, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gzip.headers['cache-control']).toBe(IMMUTABLE);
    expect(gzip.body.equals(readFileSync(join(DIST, `${script}.gz`)))).toBe(true);

    const plain = await raw(t.server.port, script);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(readFileSync(join(DIST, script)))).toBe(true);
  });

  it('when index.html is revalidated with its ETag, then the answer is 304 with the same caching and policy headers', async () => {
    const first = await raw(t.server.port, '/', { headers: { 'accept-encoding': 'br' } });
    const again = await raw(t.server.port, '/', {
      headers: { 'accept-encoding': 'br', 'if-none-match': String(first.headers.etag) },
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers['cache-control']).toBe('no-cache');
    expect(again.headers['content-security-policy']).toBe(DASHBOARD_CSP);
  });

  it('when a view is sent anything but GET or HEAD, then 405 names the methods, and the body is never read', async () => {
    const head = await raw(t.server.port, '/experiments', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);

    for (const method of ['POST', 'PUT', 'DELETE']) {
      const answer = await raw(t.server.port, '/', {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(answer.status, method).toBe(405);
      expect(answer.headers.allow).toBe('GET, HEAD');
      expect(answer.body.toString()).not.toContain('__typename');
    }
  });

  it('when a page asks under a name that is not this server (DNS rebinding), then the perimeter refuses it before the dashboard answers', async () => {
    const answer = await raw(t.server.port, '/', { headers: { host: `rebound.example:${t.server.port}` } });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body.toString()).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('then /graphql works as before: a query over POST, and the health check', async () => {
    expect(ok(await t.gql('{ __typename }'))).toEqual({ __typename: 'Query' });
    expect((await raw(t.server.port, '/health')).status).toBe(200);
  });

  it('when a browser opens /graphql, then GraphiQL comes from this server alone: nothing in the page loads from another host, under its own policy', async () => {
    const answer = await raw(t.server.port, '/graphql', { headers: { accept: 'text/html' } });
    expect(answer.status).toBe(200);
    const html = answer.body.toString();
    expect(html).toContain('YogaGraphiQL');
    expect(html).not.toContain('__TITLE__');
    // The page's markup, without the text of its inline script and style (GraphiQL's code, whose
    // strings name hosts in documentation links): no element in it loads anything but data: URLs.
    // (and without the favicon's data: URL, 150 KB of base64).
    const markup = html.replace(/<(script|style)>[\s\S]*?<\/\1>/g, '<$1></$1>').replace(/"data:[^"]*"/g, '"data:"');
    expect(markup.length).toBeLessThan(5_000);
    const sources = [...markup.matchAll(/\b(src|href)=["']?([^"' >]*)/gi)].map((match) => match[2]!);
    expect(sources.filter((source) => !source.startsWith('data:'))).toEqual([]);
    expect(markup).not.toMatch(/https?:/i);

    const policy = String(answer.headers['content-security-policy']);
    // Its one inline script is allowed by hash, and nothing else runs.
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = createHash('sha256').update(script, 'utf8').digest('base64');
    expect(policy).toContain(`script-src 'sha256-${hash}';`);
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).toMatch(/default-src 'none'/);
    expect(policy).toMatch(/connect-src 'self'/);
    expect(policy).toMatch(/frame-ancestors 'none'/);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('given a Trialog that requires keys', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ adminKey: ADMIN_KEY });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('when a browser with no key opens the dashboard, then the page is served (it asks for the key itself), while the API still refuses', async () => {
    const page = await raw(t.server.port, '/experiments');
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(errorCode(await t.gql('{ __typename }'))).toBe('UNAUTHENTICATED');
    expect((await raw(t.server.port, '/no-such-page')).status).toBe(401);
  });
});

describe('given a Trialog whose dashboard is not built (TRIALOG_DASHBOARD_DIR names an empty directory)', () => {
  let t: TestServer;
  const empty = tempDir('trialog-no-dashboard-');
  beforeAll(async () => {
    t = await startTestServer({ dashboardDir: empty.path });
  });
  afterAll(async () => {
    await t?.stop();
    empty.remove();
  });

  it('when a browser opens /, then 503 says how to build it, and the API goes on working', async () => {
    const answer = await raw(t.server.port, '/');
    expect(answer.status).toBe(503);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.body.toString()).toMatch(/npm run build:dashboard/);
    expect((await raw(t.server.port, '/experiments/abc')).status).toBe(503);
    expect(ok(await t.gql('{ __typename }'))).toEqual({ __typename: 'Query' });
  });

  it('when the dashboard is then built while the server runs, then the next request serves it', async () => {
    cpSync(DIST, empty.path, { recursive: true });
    const answer = await raw(t.server.port, '/');
    expect(answer.status).toBe(200);
    expect(answer.body.equals(readFileSync(join(DIST, 'index.html')))).toBe(true);
    const script = await raw(t.server.port, builtScript(), { headers: { 'accept-encoding': 'br' } });
    expect(script.status).toBe(200);
    expect(script.headers['content-encoding']).toBe('br');
  });
});

describe('given a Trialog serving a dashboard whose files change under it', () => {
  let t: TestServer;
  const copy = tempDir('trialog-dashboard-copy-');
  beforeAll(async () => {
    cpSync(DIST, copy.path, { recursive: true });
    t = await startTestServer({ dashboardDir: copy.path });
  });
  afterAll(async () => {
    await t?.stop();
    copy.remove();
  });

  it('when a listed file vanishes before it is read (a rebuild racing a request), then that response is cut short and the server serves on', async () => {
    const script = builtScript();
    // The directory's time set to a whole second, so that it can be put back exactly below.
    const assets = join(copy.path, 'assets');
    const SECOND = 1_700_000_000;
    utimesSync(assets, SECOND, SECOND);
    expect((await raw(t.server.port, script)).status).toBe(200); // listed
    // Removed, with its directory's time put back: the server cannot tell it is gone until it opens it.
    rmSync(join(copy.path, script));
    utimesSync(assets, SECOND, SECOND);
    await expect(raw(t.server.port, script)).rejects.toThrow(/socket hang up|ECONNRESET/);
    const page = await raw(t.server.port, '/');
    expect(page.status).toBe(200);
    expect(ok(await t.gql('{ __typename }'))).toEqual({ __typename: 'Query' });
  });
});
