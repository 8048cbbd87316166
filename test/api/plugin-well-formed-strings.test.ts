/**
 * The well-formed-strings plugin, in process through `yoga.fetch`: a variable
 * holding a lone surrogate anywhere (a value, a nested value, an object key)
 * is BAD_USER_INPUT naming the variable, and nothing runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, inProcessYoga, type InProcessYoga } from '../helpers/in-process-yoga.js';

const CREATE = `mutation($input: CreateJobInput!) { createJob(input: $input) { id labels hyperparameters } }`;
let app: InProcessYoga;
beforeAll(async () => {
  app = await inProcessYoga();
});
afterAll(async () => {
  await app?.close();
});

describe('variables that hold a lone surrogate', () => {
  for (const [where, input] of [
    ['as a value', { labels: ['a\ud800b'] }],
    ['deep inside a JSON value', { hyperparameters: { deep: [{ deeper: ['\udc00'] }] } }],
    ['as an object key', { hyperparameters: { 'key\ud800': 1 } }],
  ] as const) {
    it(`given one ${where}, then BAD_USER_INPUT naming the variable, and nothing is written`, async () => {
      const head = await app.trialog.store.headPosition();
      const answer = await app.post(CREATE, { input });
      expect(codeOf(answer)).toBe('BAD_USER_INPUT');
      expect(answer.body.errors![0]!.message).toMatch(/^variable input holds a string that is not well-formed Unicode/);
      expect(await app.trialog.store.headPosition()).toBe(head);
    });
  }
});

describe('variables that are well-formed', () => {
  it('given a surrogate pair (an emoji), then the job is created with it intact', async () => {
    const answer = await app.post(CREATE, { input: { labels: ['run-\ud83d\ude80'] } });
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data.createJob.labels).toEqual(['run-🚀']);
  });
});
