/**
 * One request must not hold the server: measured on a server running as its
 * own process, as `npm start` runs it. While a hostile or merely large body is
 * handled, a second client keeps asking `{ __typename }`; the longest it waits
 * is how long the event loop was held. Memory is the kernel's peak RSS.
 * (The bounds are generous, for a loaded 2-core machine; the numbers are printed.
 * Before the bounds: 8 to 27 s held and 2.2 GB for the 18 MB body nested 9,000,000 deep.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peakDuring } from './helpers/memory.js';
import { startServerProcess, type ServerProcess } from './helpers/process.js';
import { tempDir } from './helpers/server.js';

const ADMIN_KEY = 'preauth-process-admin-key-0123456789abcdef';
const MiB = 1024 * 1024;

let server: ServerProcess;
let dir: ReturnType<typeof tempDir>;
beforeAll(async () => {
  dir = tempDir();
  server = await startServerProcess(`${dir.path}/trialog.db`, { TRIALOG_ADMIN_KEY: ADMIN_KEY });
});
afterAll(async () => {
  await server.kill('SIGTERM');
  dir.remove();
});

const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };

/** Sends `body` while probing the server; answers the code, the longest probe wait and the peak RSS growth. */
async function measure(body: string) {
  let done = false;
  let longestProbeMs = 0;
  const probing = (async () => {
    while (!done) {
      const started = performance.now();
      await fetch(server.url, { method: 'POST', headers, body: '{"query":"{ __typename }"}' }).then((r) => r.text());
      longestProbeMs = Math.max(longestProbeMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  let code: string | undefined;
  const { before, peak } = await peakDuring(server.child.pid!, async () => {
    const response = await fetch(server.url, { method: 'POST', headers, body });
    const answer = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    code = answer.errors?.[0]?.extensions?.code;
    done = true;
    await probing;
  });
  return { code, longestProbeMs: Math.round(longestProbeMs), peakGrowthMiB: Math.round(peak - before) };
}

const nested = (depth: number) => `{"query":"{ __typename }","variables":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;

describe('one request does not hold the server', () => {
  it('a body nested 900,000 and 9,000,000 deep (1.8 and 18 MB) is refused at once, in bounded memory', async () => {
    const small = await measure(nested(900_000));
    const large = await measure(nested(9_000_000));
    console.log(`nested body: 1.8 MB ${JSON.stringify(small)}; 18 MB ${JSON.stringify(large)}`);
    expect([small.code, large.code]).toEqual(['TOO_LARGE', 'TOO_LARGE']);
    expect(large.longestProbeMs).toBeLessThan(2000);
    // What remains is the body itself (about 3 bytes a character, in transit and as text): 2.2 GB before.
    expect(large.peakGrowthMiB).toBeLessThan(250);
  });

  it('the worst legal body, 20 MiB of small JSON values, is parsed in turns: the loop is never held long', async () => {
    const zeros = `{"query":"{ __typename }","variables":{"x":[${'0,'.repeat((20 * MiB - 100) / 2 - 1)}0]}}`;
    const result = await measure(zeros);
    console.log(`20 MiB of zeros: ${JSON.stringify(result)}`);
    expect(result.code).toBeUndefined();
    expect(result.longestProbeMs).toBeLessThan(1000); // one JSON.parse of it held the loop 0.8 s here unloaded, 1.4 s loaded
  });

  it('a document with a 19 MiB string literal is refused before graphql-js lexes it', async () => {
    const result = await measure(JSON.stringify({ query: `{ job(id: "${'x'.repeat(19 * MiB)}") { id } }` }));
    console.log(`19 MiB string literal: ${JSON.stringify(result)}`);
    expect(result.code).toBe('TOO_LARGE');
    expect(result.longestProbeMs).toBeLessThan(1000); // 2.3 to 3.6 s before
  });
});
