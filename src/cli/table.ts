/** Plain-text tables for people: columns padded to their widest cell, numbers right-aligned. */

export type Cell = string | number | null | undefined;

export function table(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map(cellText));
  // A loop, not Math.max(...rows): a spread of 100,000+ rows overflows the call stack.
  const widths = headers.map((h) => h.length);
  for (const row of text) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => row[i] == null || typeof row[i] === 'number'));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...text.map(line)].join('\n');
}

function cellText(cell: Cell): string {
  if (cell == null) return '-';
  if (typeof cell === 'number') return Number.isInteger(cell) ? String(cell) : formatNumber(cell);
  return cell;
}

/** Six significant digits: enough to rank, short enough to read. */
export function formatNumber(value: number): string {
  return Number(value.toPrecision(6)).toString();
}
