/**
 * Plain-text tables for people: columns padded to their widest cell as the
 * terminal shows it (string-width: wide characters, emoji and combining
 * marks), numbers right-aligned; cut to a width with an ellipsis
 * (cli-truncate) when one is given, widest columns first.
 */
import cliTruncate from 'cli-truncate';
import stringWidth from 'string-width';

export type Cell = string | number | null | undefined;

export interface TableOptions {
  /** Fit the table in this many columns (a terminal's width); no limit when absent. */
  maxWidth?: number;
  /** How a cell's text is shown (made inert): applied before measuring, so widths are of what is printed. */
  text?: (text: string) => string;
}

const GAP = 2;
/** A column is never cut narrower than this (nor than its header), so what is left still says something. */
const MIN_CUT_WIDTH = 6;

export function table(headers: string[], rows: Cell[][], options: TableOptions = {}): string {
  const show = options.text ?? ((text: string) => text);
  const text = rows.map((row) => row.map((cell) => show(cellText(cell))));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((row) => row[i] == null || typeof row[i] === 'number'),
  );
  // A loop, not Math.max(...rows): a spread of 100,000+ rows overflows the call stack.
  const natural = headers.map((header) => stringWidth(header));
  for (const row of text) row.forEach((cell, i) => (natural[i] = Math.max(natural[i] ?? 0, stringWidth(cell))));
  const widths = fitted(natural, headers, numeric, options.maxWidth);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i]!;
        const fits = stringWidth(cell) <= width ? cell : cliTruncate(cell, width);
        const padding = ' '.repeat(Math.max(0, width - stringWidth(fits)));
        return numeric[i] ? padding + fits : fits + padding;
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(headers), ...text.map(line)].join('\n');
}

/** Column widths that fit `maxWidth`: the widest text column is narrowed first, down to its floor. Numbers are never cut. */
function fitted(natural: number[], headers: string[], numeric: boolean[], maxWidth: number | undefined): number[] {
  const widths = [...natural];
  if (maxWidth === undefined || !Number.isFinite(maxWidth)) return widths;
  const floors = widths.map((w, i) =>
    numeric[i] ? w : Math.min(w, Math.max(stringWidth(headers[i]!), MIN_CUT_WIDTH)),
  );
  let over = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - maxWidth;
  while (over > 0) {
    let widest = -1;
    widths.forEach((w, i) => {
      if (w > floors[i]! && (widest < 0 || w > widths[widest]!)) widest = i;
    });
    if (widest < 0) break; // every column at its floor: the terminal wraps what is left
    const secondWidest = Math.max(floors[widest]!, ...widths.filter((_, i) => i !== widest));
    const cut = Math.min(over, Math.max(1, widths[widest]! - secondWidest));
    widths[widest]! -= cut;
    over -= cut;
  }
  return widths;
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
