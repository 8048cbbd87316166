/** The audit tape: its filter and start position in the URL, its links, and its bound. */
import { describe, expect, it } from 'vitest';
import {
  auditStateFromParams,
  auditStateToParams,
  describeRange,
  eventFilterInput,
  isoTime,
  pushBounded,
  withDefaultStart,
} from '../../../dashboard/src/logic/audit-filter.js';
import { streamLink } from '../../../dashboard/src/logic/stream-link.js';

describe('the audit filter in the URL', () => {
  it('given every parameter, reads the filter and the position to start after', () => {
    const params = new URLSearchParams(
      'category=job&stream=job-j1&types=JobClaimed, JobFailed,,JobClaimed&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00%2B01:00&after=42',
    );
    expect(auditStateFromParams(params)).toEqual({
      filter: {
        category: 'job',
        streamId: 'job-j1',
        types: ['JobClaimed', 'JobFailed'],
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-01-01T23:00:00.000Z',
      },
      after: '42',
      fromBeginning: false,
    });
  });

  it('given a time that is not one, drops it rather than sending the server garbage', () => {
    expect(auditStateFromParams(new URLSearchParams('from=yesterday-ish')).filter.from).toBeNull();
    expect(isoTime('  ')).toBeNull();
  });

  it('written back and read again, gives the same state', () => {
    const state = auditStateFromParams(new URLSearchParams('types=A,B&from=2026-01-01T00:00:00.000Z&after=7'));
    const params = new URLSearchParams(
      Object.entries(auditStateToParams(state)).filter((e): e is [string, string] => e[1] !== null),
    );
    expect(params.toString()).toBe('types=A%2CB&from=2026-01-01T00%3A00%3A00.000Z&after=7');
    expect(auditStateFromParams(params)).toEqual(state);
  });

  it('as the GraphQL input: only what narrows, or null for the whole log', () => {
    expect(eventFilterInput(auditStateFromParams(new URLSearchParams('')).filter)).toBeNull();
    expect(eventFilterInput(auditStateFromParams(new URLSearchParams('category=mapping&types=X')).filter)).toEqual({
      category: 'mapping',
      types: ['X'],
    });
  });
});

describe('where the tape starts', () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  const open = (query: string) => withDefaultStart(auditStateFromParams(new URLSearchParams(query)), now);

  it('given a URL naming no start, opens on the last hour, not on the whole log', () => {
    const state = open('category=job');
    expect(state.filter.from).toBe('2026-11-30T11:00:00.000Z');
    expect(eventFilterInput(state.filter)).toEqual({ category: 'job', from: '2026-11-30T11:00:00.000Z' });
    // Written into the URL, it reads back as the same state: a reload or a shared link shows the same hour.
    const params = new URLSearchParams(
      Object.entries(auditStateToParams(state)).filter((e): e is [string, string] => e[1] !== null),
    );
    expect(withDefaultStart(auditStateFromParams(params), now + 60_000)).toEqual(state);
  });

  it('given a time, a position or "from the beginning", starts there', () => {
    expect(open('from=2026-01-01T00:00:00.000Z').filter.from).toBe('2026-01-01T00:00:00.000Z');
    expect(open('after=42')).toMatchObject({ after: '42', filter: { from: null } });
    const whole = open('from=beginning');
    expect(whole).toMatchObject({ fromBeginning: true, filter: { from: null } });
    expect(eventFilterInput(whole.filter)).toBeNull();
    expect(auditStateToParams(whole).from).toBe('beginning');
  });

  it('says in words which range is shown', () => {
    const time = (iso: string) => iso.slice(11, 16);
    expect(describeRange(open(''), time)).toBe('Events from 11:00 to now, then live');
    expect(describeRange(open('from=beginning'), time)).toBe('Events from the beginning of the log to now, then live');
    expect(describeRange(open('after=42&to=2026-11-30T11:30:00Z'), time)).toBe('Events after position 42 to 11:30');
  });
});

describe('an event stream links to', () => {
  it("a job's page, an experiment's page, or else the tape narrowed to the stream", () => {
    expect(streamLink('job-j_1')).toBe('/jobs/j_1');
    expect(streamLink('experiment-exp-7')).toBe('/experiments/exp-7');
    expect(streamLink('mapping-map_ab')).toBe('/audit?stream=mapping-map_ab');
    expect(streamLink('registry-algorithms')).toBe('/audit?stream=registry-algorithms');
    expect(streamLink('job')).toBe('/audit?stream=job');
  });

  it('escapes what would otherwise change the path', () => {
    expect(streamLink('job-a/b?c')).toBe('/jobs/a%2Fb%3Fc');
  });
});

describe('the tape holds at most its bound, newest first', () => {
  it('puts arrivals on top in reverse order and lets the oldest fall off', () => {
    expect(pushBounded([3, 2, 1], [4, 5], 4)).toEqual([5, 4, 3, 2]);
  });

  it('given more arrivals than the bound at once, keeps only the newest', () => {
    expect(pushBounded([1], [2, 3, 4, 5, 6], 3)).toEqual([6, 5, 4]);
  });

  it('after any number of arrivals, holds no more than the bound', () => {
    let tape: number[] = [];
    for (let i = 0; i < 1000; i++) tape = pushBounded(tape, [i * 2, i * 2 + 1], 50);
    expect(tape.length).toBe(50);
    expect(tape[0]).toBe(1999);
  });
});
