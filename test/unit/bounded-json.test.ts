/**
 * The bounded JSON parser answers what JSON.parse answers, whatever the size
 * of the pieces it parses in, refuses what JSON.parse refuses, and refuses
 * nesting past its bound before building anything.
 */
import { describe, expect, it } from 'vitest';
import { JsonRefusal, parseJsonInTurns } from '../../src/http/bounded-json.js';

const pieces = [1, 2, 3, 5, 8, 13, 64, 100_000];
const long = (c: string) => c.repeat(40);

describe('given JSON, whatever the piece size', () => {
  const texts = [
    '{"a":[1,2,{"b":"x\\"]}"}],"__proto__":{"p":1},"c":null, "d" : [ ] , "e":{}}',
    ' [ [1,[2,[3]]], "s", true, false, null, -1.5e3, "\\u00e9\\n" ] ',
    `{"q":"${long('x\\"')}","v":["${long('y')}",1,"${long('z')}"],"${long('k')}":{"w":"${long('[')}"}}`,
    `"${long('s')}"`,
    '{"a":1,"a":2}',
    // Runs of backslashes before quotes: an even run leaves the quote closing its string, an odd one escapes it.
    JSON.stringify({ a: 'x\\', b: '\\"q"', c: ['\\', ...Array(30).fill('\\\\'), '\\"'] }),
    JSON.stringify([...Array(40).fill('\\\\"]\\'), 'end']),
  ];
  for (const text of texts) {
    it(`parses ${text.slice(0, 40)}… as JSON.parse does`, async () => {
      for (const chunkChars of pieces)
        expect(await parseJsonInTurns(text, { maxDepth: 10, chunkChars }), `piece ${chunkChars}`).toStrictEqual(
          JSON.parse(text),
        );
    });
  }

  it('keeps "__proto__" an own key, as JSON.parse does, never the prototype', async () => {
    const parsed = (await parseJsonInTurns(`{"__proto__":{"polluted":1},"x":[${'0,'.repeat(20)}0]}`, {
      maxDepth: 10,
      chunkChars: 4,
    })) as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.keys(parsed)).toEqual(['__proto__', 'x']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('given text that is not JSON', () => {
  const bad = [
    '',
    '[1 2]',
    '[1,]',
    '{"a":1,}',
    '{"a" 1}',
    '[1]x',
    ']',
    '{"a":[1,2}',
    '[[1],]',
    '[,[1]]',
    '[[1] 2]',
    '{"a":[1] "b":2}',
    '{[1]:2}',
    '[1,,[2]]',
    `["${long('x')}",]`,
    `{"a":"${long('x')}" "b":1}`,
  ];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)} with BAD_USER_INPUT`, async () => {
      for (const chunkChars of [1, 2, 3, 5, 100]) {
        const refusal = await parseJsonInTurns(text, { maxDepth: 10, chunkChars }).catch((error: unknown) => error);
        expect(refusal, `piece ${chunkChars}`).toBeInstanceOf(JsonRefusal);
        expect((refusal as JsonRefusal).code).toBe('BAD_USER_INPUT');
      }
    });
  }
});

describe('given an array or object with too many items', () => {
  it('refuses it with TOO_LARGE, at the first item too many', async () => {
    for (const text of [
      `[${'0,'.repeat(10)}0]`,
      `{${Array.from({ length: 11 }, (_, i) => `"k${i}":[1,2]`).join(',')}}`,
    ]) {
      const refusal = await parseJsonInTurns(text, { maxDepth: 5, maxItems: 10 }).catch((error: unknown) => error);
      expect((refusal as JsonRefusal).code).toBe('TOO_LARGE');
    }
    expect(await parseJsonInTurns(`[${'0,'.repeat(9)}0]`, { maxDepth: 5, maxItems: 10 })).toHaveLength(10);
    expect(await parseJsonInTurns(`["${','.repeat(100)}"]`, { maxDepth: 5, maxItems: 10 })).toHaveLength(1);
  });
});

describe('given nesting past the bound', () => {
  it('refuses it with TOO_LARGE, at the first bracket too deep', async () => {
    const refusal = await parseJsonInTurns(`{"a":${'['.repeat(11)}${']'.repeat(11)}}`, { maxDepth: 11 }).catch(
      (error: unknown) => error,
    );
    expect((refusal as JsonRefusal).code).toBe('TOO_LARGE');
    expect(await parseJsonInTurns(`{"a":${'['.repeat(10)}${']'.repeat(10)}}`, { maxDepth: 11 })).toBeTruthy();
    // Brackets inside strings do not count.
    expect(await parseJsonInTurns(`{"a":"${'['.repeat(100)}"}`, { maxDepth: 1 })).toEqual({ a: '['.repeat(100) });
  });
});

describe('given a large text', () => {
  it('parses it a piece at a time, with other work let in between the pieces', async () => {
    // 4 MiB of objects holding small numbers; JSON.parse would take it in one turn of the event loop.
    const item = `{"k":[${'0,'.repeat(500)}0]}`;
    const text = `[${Array.from({ length: Math.ceil((4 * 1024 * 1024) / item.length) }, () => item).join(',')}]`;
    const chunkChars = 64 * 1024;
    let turnsBetween = 0;
    let parsing = true;
    const countTurns = () => {
      if (!parsing) return;
      turnsBetween++;
      setImmediate(countTurns);
    };
    setImmediate(countTurns);
    const parsed = (await parseJsonInTurns(text, { maxDepth: 5, chunkChars })) as unknown[];
    parsing = false;
    expect(parsed).toEqual(JSON.parse(text));
    // One piece of at most chunkChars a turn: the text holds at least 64 such pieces.
    expect(turnsBetween).toBeGreaterThanOrEqual(Math.floor(text.length / chunkChars / 2));
  });
});
