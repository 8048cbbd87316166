/**
 * The correlation-id plugin, in process through `yoga.fetch`: a request's
 * x-correlation-id, when sane, is echoed in the response and recorded on the
 * events it causes; otherwise a fresh one is made up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessYoga, type InProcessYoga } from '../helpers/in-process-yoga.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
let app: InProcessYoga;
beforeAll(async () => {
  app = await inProcessYoga();
});
afterAll(async () => {
  await app?.close();
});

async function createJobWith(headers: Record<string, string>) {
  const answer = await app.post(`mutation { createJob(input: {}) { id } }`, undefined, headers);
  const [created] = await app.trialog.store.readStream(`job-${answer.body.data.createJob.id}`, { maxCount: 1 });
  return { echoed: answer.headers.get('x-correlation-id'), recorded: created!.metadata.correlationId };
}

describe("a client's correlation id", () => {
  it('given a sane x-correlation-id, then the response echoes it and the event records it', async () => {
    expect(await createJobWith({ 'x-correlation-id': 'run-42/step-7' })).toEqual({
      echoed: 'run-42/step-7',
      recorded: 'run-42/step-7',
    });
  });

  it('given one with spaces around it, then it is trimmed', async () => {
    expect((await createJobWith({ 'x-correlation-id': '  abc  ' })).echoed).toBe('abc');
  });
});

describe('a missing or unusable correlation id', () => {
  for (const [what, headers] of [
    ['none', {}],
    ['one over 128 characters', { 'x-correlation-id': 'x'.repeat(129) }],
    ['one with a space inside', { 'x-correlation-id': 'a b' }],
  ] as const) {
    it(`given ${what}, then a fresh id is made up, echoed and recorded alike`, async () => {
      const { echoed, recorded } = await createJobWith(headers);
      expect(echoed).toMatch(UUID);
      expect(recorded).toBe(echoed);
    });
  }

  it('given a query, then its answer carries an id too', async () => {
    expect((await app.post(`{ jobs { totalCount } }`)).headers.get('x-correlation-id')).toMatch(UUID);
  });
});
