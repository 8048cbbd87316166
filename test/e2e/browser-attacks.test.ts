/**
 * Given a Trialog running open on loopback (the quick start) and a user who
 * visits a hostile web page, when that page tries, in a real browser, every
 * way a page can reach the server, then none of them writes anything and the
 * page reads nothing back.
 *
 * The browser is Debian's Chromium (/usr/bin/chromium, which .ci/run installs)
 * driven by playwright-core; no browser is ever downloaded.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInChromium } from '../helpers/browser.js';
import { launchChromium, type LaunchedChromium } from '../helpers/chromium.js';
import { ok, startTestServer, type TestServer } from '../helpers/server.js';

const REBOUND_NAME = 'rebind.test';

/** What the hostile page reports for one attack: `data` is whatever GraphQL data it managed to read. */
interface Outcome {
  attack: string;
  outcome: string;
  data?: unknown;
}

/**
 * The hostile page. Each attack is what a page on another origin can do with no help from the
 * user: fetch (CORS and no-cors), form posts into a hidden frame, image and script loads, and a
 * WebSocket. Each mutation labels what it creates with the attack's name.
 */
function attackPage(trialogUrl: string): string {
  const script = `
const TRIALOG = ${JSON.stringify(trialogUrl)};
const job = (attack) => 'mutation { createJob(input: { labels: ["' + attack + '"] }) { id labels } }';
const apiKey = (name) => 'mutation { createApiKey(input: { name: "' + name + '", role: ADMIN }) { key } }';
const results = [];
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readable(attack, request) {
  try {
    const response = await request();
    if (response.type === 'opaque') return results.push({ attack, outcome: 'opaque response: nothing readable' });
    const text = await response.text();
    let data;
    try { data = JSON.parse(text).data ?? undefined; } catch { data = undefined; }
    results.push({ attack, outcome: 'HTTP ' + response.status + ': ' + text.slice(0, 200), data });
  } catch (error) {
    results.push({ attack, outcome: 'blocked: ' + error.message });
  }
}

function submitForm(attack, enctype, fields) {
  return new Promise((resolve) => {
    const frame = document.createElement('iframe');
    frame.name = 'frame-' + attack;
    document.body.append(frame);
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = TRIALOG;
    form.enctype = enctype;
    form.target = frame.name;
    for (const [name, value] of fields) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.append(input);
    }
    document.body.append(form);
    const done = (how) => {
      let readable = 'unreadable';
      try { readable = frame.contentDocument ? 'READ: ' + frame.contentDocument.body.innerText.slice(0, 200) : 'unreadable'; } catch { readable = 'unreadable'; }
      results.push({ attack, outcome: how + ', frame ' + readable, data: readable.startsWith('READ') && readable.includes('"data"') ? readable : undefined });
      resolve();
    };
    frame.addEventListener('load', () => done('submitted'), { once: true });
    setTimeout(() => done('timed out'), 5000);
    form.submit();
  });
}

function load(attack, tag) {
  return new Promise((resolve) => {
    const element = document.createElement(tag);
    element.addEventListener('load', () => { results.push({ attack, outcome: 'loaded (unreadable)' }); resolve(); });
    element.addEventListener('error', () => { results.push({ attack, outcome: 'error event (unreadable)' }); resolve(); });
    element.src = TRIALOG + '?query=' + encodeURIComponent(job(attack));
    document.body.append(element);
  });
}

function webSocket(attack) {
  return new Promise((resolve) => {
    const socket = new WebSocket(TRIALOG.replace(/^http/, 'ws'), 'graphql-transport-ws');
    let settled = false;
    const finish = (outcome, data) => {
      if (settled) return;
      settled = true;
      results.push({ attack, outcome, data });
      socket.close();
      resolve();
    };
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    socket.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      if (frame.type === 'connection_ack') socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: apiKey(attack) } }));
      else if (frame.type === 'next') finish('READ over WebSocket', frame.payload.data ?? undefined);
      else if (frame.type === 'error') finish('GraphQL error over WebSocket: ' + JSON.stringify(frame.payload));
    };
    socket.onerror = () => finish('refused: WebSocket error');
    socket.onclose = (event) => finish('closed with ' + event.code);
    setTimeout(() => finish('timed out'), 5000);
  });
}

window.attacks = (async () => {
  await submitForm('form-urlencoded', 'application/x-www-form-urlencoded', [['query', job('form-urlencoded')]]);
  await submitForm('form-multipart', 'multipart/form-data', [['operations', JSON.stringify({ query: job('form-multipart') })], ['map', '{}']]);
  // The classic text/plain trick: the field's name and value join into a JSON body with "=" in between.
  await submitForm('form-text-plain', 'text/plain', [['{"query":' + JSON.stringify(job('form-text-plain')) + ',"x":"', '"}']]);
  await readable('fetch-no-cors-text-plain', () => fetch(TRIALOG, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: job('fetch-no-cors-text-plain') }) }));
  await readable('fetch-no-cors-json', () => fetch(TRIALOG, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: job('fetch-no-cors-json') }) }));
  await load('get-mutation-img', 'img');
  await load('get-mutation-script', 'script');
  await readable('fetch-cors-read-keys', () => fetch(TRIALOG, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ apiKeys { name role } }' }) }));
  await readable('fetch-cors-get-query', () => fetch(TRIALOG + '?query=' + encodeURIComponent('{ jobs { totalCount } }')));
  await webSocket('websocket-create-admin-key');
  await readable('fetch-cors-credentials-create-admin-key', () => fetch(TRIALOG, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: apiKey('fetch-cors-credentials-create-admin-key') }) }));
  await wait(100);
  return results;
})();
`;
  return `<!doctype html><html><head><title>a page you happened to visit</title></head><body><script>${script}</script></body></html>`;
}

interface Seen {
  method: string;
  host?: string;
  origin?: string;
  contentType?: string;
  upgrade: boolean;
  url: string;
}

describeInChromium('a hostile web page in a real browser', () => {
  let t: TestServer;
  let page: Server;
  let pageOrigin: string;
  let chromium: LaunchedChromium;
  let browser: BrowserContext;
  let head: string | undefined;
  const seen: Seen[] = [];

  beforeAll(async () => {
    t = await startTestServer(); // open: no key anywhere, bound to 127.0.0.1
    const observe = (upgrade: boolean) => (req: IncomingMessage) =>
      seen.push({
        method: req.method ?? '',
        host: req.headers.host,
        origin: req.headers.origin,
        contentType: req.headers['content-type'],
        upgrade,
        url: req.url ?? '',
      });
    t.server.httpServer.on('request', observe(false));
    t.server.httpServer.on('upgrade', observe(true));
    expect(t.trialog.access.isOpen).toBe(true);
    head = await t.trialog.store.headPosition();

    // The hostile page is served from another origin: the same machine, another port.
    page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(attackPage(t.url));
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

    // DNS rebinding without a DNS server: the attacker's name resolves to loopback.
    chromium = await launchChromium({ extraArgs: [`--host-resolver-rules=MAP ${REBOUND_NAME} 127.0.0.1`] });
    browser = chromium.context;
  });

  afterAll(async () => {
    await chromium?.close();
    await new Promise((resolve) => page?.close(resolve));
    await t?.stop();
  });

  it('given a DNS-rebinding page (its name now resolving to 127.0.0.1), its same-origin requests are refused by Host', async () => {
    const port = t.server.port;
    const tab = await browser.newPage();
    // Any page of the server's will do (its health check answers 200 to a GET); an error page would not be same-origin.
    await tab.goto(`http://${REBOUND_NAME}:${port}/health`);
    // The page's script, as the attacker wrote it: to the browser this is a same-origin request.
    const answer = await tab.evaluate(async () => {
      const response = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'mutation { createJob(input: { labels: ["dns-rebinding"] }) { id } }' }),
      });
      return {
        status: response.status,
        body: (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] },
      };
    });
    await tab.close();
    expect(
      seen.some((s) => s.host === `${REBOUND_NAME}:${port}` && s.method === 'POST'),
      'the rebound request reached the server',
    ).toBe(true);
    expect(answer.body.data ?? null, 'the rebound page got data').toBeNull();
    expect(answer.status).toBe(403);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await t.trialog.store.headPosition(), 'the rebound page wrote to the log').toBe(head);
  });

  it('given a page on another origin, no attack it makes writes anything or reads anything back', async () => {
    const tab = await browser.newPage();
    await tab.goto(`${pageOrigin}/`);
    const outcomes = (await tab.evaluate(
      () => (window as unknown as { attacks: Promise<unknown> }).attacks,
    )) as Outcome[];
    await tab.close();

    // Every attack was made: it reached the server (so what follows is not vacuous).
    const fromPage = seen.filter((s) => s.origin === pageOrigin || s.url.includes('mutation'));
    const sent = (what: (s: Seen) => boolean) => fromPage.some(what);
    expect(
      sent((s) => s.method === 'POST' && /urlencoded/.test(s.contentType ?? '')),
      'a urlencoded form was posted',
    ).toBe(true);
    expect(
      sent((s) => s.method === 'POST' && /multipart/.test(s.contentType ?? '')),
      'a multipart form was posted',
    ).toBe(true);
    expect(
      sent((s) => s.method === 'POST' && /text\/plain/.test(s.contentType ?? '')),
      'a text/plain body was posted',
    ).toBe(true);
    expect(
      sent((s) => s.method === 'GET' && s.url.includes('mutation')),
      'a mutation was sent over GET',
    ).toBe(true);
    expect(
      sent((s) => s.upgrade),
      'a WebSocket upgrade was tried',
    ).toBe(true);
    expect(
      sent((s) => s.method === 'OPTIONS' || (s.method === 'POST' && /json/.test(s.contentType ?? ''))),
      'a CORS request was tried',
    ).toBe(true);
    expect(outcomes.map((o) => o.attack)).toHaveLength(11);

    // What got through, if anything: each event with the labels or key name the attack gave it.
    const written = (await t.trialog.store.readAll({ after: head, maxCount: 100 })).map(
      (e) =>
        `${e.type} ${JSON.stringify((e.data as { labels?: unknown; name?: unknown }).labels ?? (e.data as { name?: unknown }).name ?? '')}`,
    );
    expect(written, `the page wrote to the log; what it saw: ${JSON.stringify(outcomes, null, 1)}`).toEqual([]);
    const read = outcomes.filter(
      (o) => (o.data !== undefined && o.data !== null) || o.outcome.startsWith('HTTP') || o.outcome.startsWith('READ'),
    );
    expect(read, 'responses the page could read').toEqual([]);
    expect(await t.trialog.store.headPosition()).toBe(head);
  });

  it('then the owner still runs open, as before: nothing locked them out', async () => {
    expect(t.trialog.access.isOpen).toBe(true);
    expect(ok(await t.gql('mutation { createJob(input: { labels: ["owner"] }) { labels } }')).createJob.labels).toEqual(
      ['owner'],
    );
  });

  it("and GraphiQL's own page (same origin) still runs queries over HTTP and subscriptions over WebSocket", async () => {
    const tab = await browser.newPage();
    // GraphiQL's scripts come from a CDN this machine cannot reach: only its page and its origin matter here.
    const own = new URL(t.url).origin;
    await tab.route('**/*', (route) => (route.request().url().startsWith(own) ? route.continue() : route.abort()));
    const response = await tab.goto(t.url, { waitUntil: 'domcontentloaded' });
    expect(response?.status()).toBe(200);
    expect(await response?.text()).toContain('GraphiQL');
    // What GraphiQL sends: a JSON POST to its endpoint, and graphql-ws on the same path.
    const seenByPage = await tab.evaluate(async (endpoint) => {
      const post = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json, multipart/mixed',
        },
        body: JSON.stringify({ query: 'mutation { createJob(input: { labels: ["from-graphiql"] }) { labels } }' }),
      });
      const created = (await post.json()) as { data?: { createJob: { labels: string[] } } };
      const streamed = await new Promise<unknown>((resolve, reject) => {
        const socket = new WebSocket(endpoint.replace(/^http/, 'ws'), 'graphql-transport-ws');
        socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
        socket.onmessage = (message) => {
          const frame = JSON.parse(message.data as string) as { type: string; payload?: { data?: unknown } };
          if (frame.type === 'connection_ack')
            socket.send(
              JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { events { type } }' } }),
            );
          if (frame.type === 'next') {
            socket.close();
            resolve(frame.payload?.data);
          }
        };
        socket.onclose = (event) => reject(new Error(`closed with ${event.code}`));
        setTimeout(() => reject(new Error('no event within 5 s')), 5000);
      });
      return { created: created.data?.createJob.labels, streamed };
    }, t.url);
    await tab.close();
    expect(seenByPage).toEqual({ created: ['from-graphiql'], streamed: { events: { type: 'JobCreated' } } });
  });
});
