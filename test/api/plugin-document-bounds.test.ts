/**
 * The document-bounds plugin, in process through `yoga.fetch`: a document
 * over its byte limit, or whose brackets nest deeper than 128 levels, is
 * TOO_LARGE before graphql-js parses it; brackets inside strings and
 * comments do not count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, inProcessYoga, type InProcessYoga } from '../helpers/in-process-yoga.js';

const MAX_BYTES = 2048;
let app: InProcessYoga;
beforeAll(async () => {
  app = await inProcessYoga({ graphql: { maxDocumentBytes: MAX_BYTES } });
});
afterAll(async () => {
  await app?.close();
});

describe('the size of a document', () => {
  it('given a document over the byte limit, then TOO_LARGE naming the limit', async () => {
    const answer = await app.post(`{ jobs { totalCount } } # ${'x'.repeat(MAX_BYTES)}`);
    expect(codeOf(answer)).toBe('TOO_LARGE');
    expect(answer.body.errors![0]!.message).toBe(`document over ${MAX_BYTES} bytes`);
  });

  it('given a document under the limit in characters but over it in UTF-8 bytes, then TOO_LARGE', async () => {
    const answer = await app.post(`{ jobs { totalCount } } # ${'é'.repeat(MAX_BYTES / 2)}`);
    expect(codeOf(answer)).toBe('TOO_LARGE');
  });
});

describe('how deep a document nests', () => {
  const nested = (depth: number) =>
    `{ jobs(filter: { status: ${'['.repeat(depth)}QUEUED${']'.repeat(depth)} }) { totalCount } }`;

  it('given brackets nested deeper than 128 levels, then TOO_LARGE before parsing', async () => {
    const answer = await app.post(nested(200));
    expect(codeOf(answer)).toBe('TOO_LARGE');
    expect(answer.body.errors![0]!.message).toBe('document nested deeper than 128 levels');
  });

  it("given brackets nested 100 levels, then the document is parsed: the error is the schema's, not TOO_LARGE", async () => {
    expect(codeOf(await app.post(nested(100)))).toBe('BAD_USER_INPUT');
  });

  it('given 300 brackets inside a comment, then they do not count: the document runs', async () => {
    const answer = await app.post(`{ jobs { totalCount } } # ${'['.repeat(300)}`);
    expect(answer.body.errors).toBeUndefined();
  });

  it('given 300 brackets inside a string, then they do not count: the document runs', async () => {
    const answer = await app.post(`{ jobs(filter: { label: "${'['.repeat(300)}" }) { totalCount } }`);
    expect(answer.body.errors).toBeUndefined();
  });
});
