/**
 * How a step range is read from the metric blocks (see ./metric-series.ts):
 * a series' points are summarised in aligned blocks of 2^5 = 32 and
 * 2^10 = 1,024 steps, so any range is the large blocks wholly inside it, the
 * small blocks wholly inside what is left at either end, and at most 31
 * points at either end read one by one. A read of a range then costs a
 * small constant (at most 2 x 31 points and 2 x 31 small blocks) plus one
 * row per 1,024 steps, whatever the number of points in it.
 *
 * Pure arithmetic, apart from any I/O. Blocks are floored (`Math.floor`, as
 * an arithmetic shift would be) so the cover is right for negative steps too,
 * and exact for any safe integer (a shift would wrap past 2^31).
 */

/** The block sizes, as powers of two, from the smallest up. */
export const BLOCK_LEVELS = [5, 10] as const;
export type BlockLevel = (typeof BLOCK_LEVELS)[number];

/** Both ends included; empty when `from > to`. */
export interface Span {
  from: number;
  to: number;
}

const EMPTY: Span = { from: 1, to: 0 };

/**
 * A range split in pieces that together hold each of its steps once: `points`
 * (spans of steps, read point by point) and, per level, spans of block numbers
 * (block b of level k holds steps b * 2^k to (b + 1) * 2^k - 1). Always two
 * spans of each kind (the range's head and tail; the middle joins the head),
 * so the query that reads a cover has one fixed shape.
 */
export interface Cover {
  points: [Span, Span];
  blocks: Record<BlockLevel, [Span, Span]>;
}

export function blockOf(step: number, level: BlockLevel): number {
  return Math.floor(step / 2 ** level);
}

export function coverOf(range: Span): Cover {
  const blocks = {} as Cover['blocks'];
  for (const level of BLOCK_LEVELS) blocks[level] = [EMPTY, EMPTY];
  const cover: Cover = { points: [EMPTY, EMPTY], blocks };
  if (range.from > range.to) return cover;
  // What is still to cover, in steps, aligned to the unit of the level above (`unit` steps per piece).
  let { from, to } = range;
  let unit = 1;
  let pieces = cover.points;
  for (const level of BLOCK_LEVELS) {
    const size = 2 ** level;
    // `+ 0` turns the -0 that Math.ceil gives for (-1, 0) into 0.
    const alignedFrom = Math.ceil(from / size) * size + 0;
    const alignedTo = Math.floor((to + 1) / size) * size - 1;
    if (alignedFrom > alignedTo) break;
    pieces[0] = unitSpan(from, alignedFrom - 1, unit);
    pieces[1] = unitSpan(alignedTo + 1, to, unit);
    from = alignedFrom;
    to = alignedTo;
    unit = size;
    pieces = cover.blocks[level];
  }
  pieces[0] = unitSpan(from, to, unit);
  return cover;
}

/** The most rows reading a cover touches: its points, if every step holds one, and its blocks. */
export function rowsOf(cover: Cover): number {
  const width = (span: Span) => Math.max(0, span.to - span.from + 1);
  let rows = width(cover.points[0]) + width(cover.points[1]);
  for (const level of BLOCK_LEVELS) rows += width(cover.blocks[level][0]) + width(cover.blocks[level][1]);
  return rows;
}

/** Steps `from`..`to` (aligned to `unit`, or empty) as pieces of `unit` steps. */
function unitSpan(from: number, to: number, unit: number): Span {
  return from > to ? EMPTY : { from: from / unit + 0, to: (to + 1) / unit - 1 };
}
