import { describe, expect, it } from 'vitest';
import {
  appendLive,
  earlierPage,
  emptyLog,
  newerLines,
  prependEarlier,
  replaceWithTail,
  tailPage,
  type LogLine,
} from '../../../dashboard/src/logic/log-buffer.js';

const lines = (from: number, to: number): LogLine[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ({
    offset: from + i,
    stream: 'STDOUT',
    text: `line ${from + i}`,
    timestamp: '',
  }));

describe('the log window in memory', () => {
  it('given 10,000 live lines into a window of 100, keeps the newest 100 and knows the last offset', () => {
    let window = emptyLog(100);
    for (let from = 0; from < 10_000; from += 250) window = appendLive(window, lines(from, from + 249));
    expect(window.lines).toHaveLength(100);
    expect(window.lines[0]!.offset).toBe(9900);
    expect(window.lastOffset).toBe(9999);
  });

  it('given lines resent after a reconnect, keeps each offset once', () => {
    let window = appendLive(emptyLog(100), lines(0, 9));
    window = appendLive(window, lines(5, 14));
    expect(window.lines.map((l) => l.offset)).toEqual(lines(0, 14).map((l) => l.offset));
  });

  it('given earlier pages beyond its capacity, drops the newest lines, leaves the tail and counts what arrives', () => {
    let window = replaceWithTail(emptyLog(100), lines(900, 999));
    window = prependEarlier(window, lines(850, 899));
    expect(window.atTail).toBe(false);
    expect(window.lines[0]!.offset).toBe(850);
    expect(window.lines).toHaveLength(100);
    window = appendLive(window, lines(1000, 1009));
    expect(window.lines[99]!.offset).toBe(949);
    expect(window.lastOffset).toBe(1009);
    expect(newerLines(window)).toBe(60);
  });

  it('given the window back at the tail, live lines join it again', () => {
    let window = prependEarlier(replaceWithTail(emptyLog(10), lines(10, 19)), lines(5, 9));
    window = replaceWithTail(window, lines(20, 29));
    window = appendLive(window, lines(30, 31));
    expect(window.atTail).toBe(true);
    expect(window.lines.map((l) => l.offset)).toEqual(lines(22, 31).map((l) => l.offset));
  });
});

describe('paging the log backward', () => {
  it('given a window starting at offset 250, the page before it is the 100 lines after offset 149', () => {
    expect(earlierPage(replaceWithTail(emptyLog(), lines(250, 260)), 100)).toEqual({ first: 100, after: '149' });
  });

  it('given a window starting at offset 30, the page before it starts at the log start (no cursor)', () => {
    expect(earlierPage(replaceWithTail(emptyLog(), lines(30, 40)), 100)).toEqual({ first: 30, after: null });
  });

  it('given a window starting at offset 0, there is nothing earlier', () => {
    expect(earlierPage(replaceWithTail(emptyLog(), lines(0, 5)), 100)).toBeNull();
  });

  it('given a log of 1,000 lines, its last 200 are the page after offset 799', () => {
    expect(tailPage(1000, 200)).toEqual({ first: 200, after: '799' });
    expect(tailPage(50, 200)).toEqual({ first: 50, after: null });
    expect(tailPage(0, 200)).toBeNull();
  });
});
