/**
 * One request must not hold the server: measured on a server running as its
 * own process, as `npm start` runs it. The server reports the longest its
 * event loop was held while a hostile or merely large body was handled
 * (perf_hooks, preloaded: helpers/loop-delay.mjs); a second client keeps
 * asking `{ __typename }` meanwhile, and the longest it waited is printed too.
 * Memory is the kernel's peak RSS, bounded generously; the times are printed,
 * never asserted. On main, before these bounds: the
 * 18 MB body nested 9,000,000 deep held the loop 8 s and took 833 MiB here.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peakDuring } from '../helpers/memory.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

const ADMIN_KEY = 'preauth-process-admin-key-0123456789abcdef';
const MiB = 1024 * 1024;

let server: ServerProcess;
let dir: ReturnType<typeof tempDir>;
beforeAll(async () => {
  dir = tempDir();
  const monitor = fileURLToPath(new URL('../helpers/loop-delay.mjs', import.meta.url));
  server = await startServerProcess(`${dir.path}/trialog.db`, {
    TRIALOG_ADMIN_KEY: ADMIN_KEY,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${monitor}`.trim(),
  });
});
afterAll(async () => {
  await server.kill('SIGTERM');
  dir.remove();
});

const headers = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` };

/** The longest the server's event loop was held since the last call, in ms (its own report). */
async function loopDelayMaxMs(): Promise<number> {
  const seen = (server.output().match(/loop-delay-max-ms \d+/g) ?? []).length;
  server.child.kill('SIGUSR2');
  for (;;) {
    const reports = server.output().match(/loop-delay-max-ms (\d+)/g) ?? [];
    if (reports.length > seen) return Number(reports.at(-1)!.split(' ')[1]);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

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
  await loopDelayMaxMs(); // from here
  const { before, peak } = await peakDuring(server.child.pid!, async () => {
    const response = await fetch(server.url, { method: 'POST', headers, body });
    const answer = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    code = answer.errors?.[0]?.extensions?.code;
    done = true;
    await probing;
  });
  const loopHeldMs = await loopDelayMaxMs();
  return { code, loopHeldMs, longestProbeMs: Math.round(longestProbeMs), peakGrowthMiB: Math.round(peak - before) };
}

const nested = (depth: number) =>
  `{"query":"{ __typename }","variables":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}`;

describe('one request does not hold the server', () => {
  it('(the baseline: the longest the loop is held while only probes come)', async () => {
    const idle = await measure('{"query":"{ __typename }"}');
    console.log(`baseline: ${JSON.stringify(idle)}`);
    expect(idle.code).toBeUndefined();
  });

  it('a body nested 900,000 and 9,000,000 deep (1.8 and 18 MB) is refused at once, in bounded memory', async () => {
    const small = await measure(nested(900_000));
    const large = await measure(nested(9_000_000));
    console.log(`nested body: 1.8 MB ${JSON.stringify(small)}; 18 MB ${JSON.stringify(large)}`);
    expect([small.code, large.code]).toEqual(['TOO_LARGE', 'TOO_LARGE']);
    // What remains is the body itself (about 3 bytes a character, in transit and as text): 2.2 GB before.
    expect(large.peakGrowthMiB).toBeLessThan(250);
  });

  /** 20 MiB of small JSON values: as many items as an array may hold (MAX_JSON_ITEMS), as many arrays as fit. */
  const twentyMiBOfZeros = (last = '0') => {
    const array = `[${'0,'.repeat(1024 * 1024 - 1)}0]`;
    const arrays = Array.from(
      { length: Math.floor((20 * MiB - 100) / (array.length + 8)) },
      (_, i) => `"a${i}":${array}`,
    );
    const room = 20 * MiB - 100 - arrays.reduce((n, a) => n + a.length + 1, 0);
    arrays.push(`"rest":[${'0,'.repeat(Math.floor(room / 2) - 8)}${last}]`);
    return `{"query":"{ __typename }","variables":{${arrays.join(',')}}}`;
  };

  it('the worst legal body, 20 MiB of small JSON values, is parsed in turns, in bounded memory', async () => {
    const zeros = twentyMiBOfZeros();
    expect(zeros.length).toBeGreaterThan(20 * MiB - 100);
    expect(zeros.length).toBeLessThanOrEqual(20 * MiB);
    const result = await measure(zeros);
    console.log(`20 MiB of zeros: ${JSON.stringify(result)}`);
    expect(result.code).toBeUndefined();
    // One JSON.parse of 20 MiB of zeros holds the loop 0.8 s here unloaded (1.4 s seen by a probe on main, loaded).
    // How long the loop was held is printed, not asserted (no timing assertions: a loaded machine would fail
    // them); that the parse goes a piece a turn is specified in bounded-json.test.ts. The memory is the body
    // and its values (about 220 MiB); a walk of the values that made a string for each took 700 MiB and 2.7 s.
    expect(result.peakGrowthMiB).toBeLessThan(400);
  });

  it('the same 20 MiB with a lone surrogate as its last value is refused, in bounded memory', async () => {
    const result = await measure(twentyMiBOfZeros('"\\ud800"'));
    console.log(`20 MiB of zeros and a lone surrogate: ${JSON.stringify(result)}`);
    expect(result.code).toBe('BAD_USER_INPUT');
    expect(result.peakGrowthMiB).toBeLessThan(400);
  });

  it('a document with a 19 MiB string literal is refused before graphql-js lexes it', async () => {
    const result = await measure(JSON.stringify({ query: `{ job(id: "${'x'.repeat(19 * MiB)}") { id } }` }));
    console.log(`19 MiB string literal: ${JSON.stringify(result)}`);
    expect(result.code).toBe('TOO_LARGE');
  });
});
