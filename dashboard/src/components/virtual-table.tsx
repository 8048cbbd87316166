import type { ComponentChild, RefObject } from 'preact';
import { useLayoutEffect, useMemo, useReducer, useRef } from 'preact/hooks';
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';
import './virtual-table.css';

export interface VirtualRowsOptions {
  count: number;
  /** Every row's height in pixels (fixed: no measuring, so 10,000 rows cost what the visible ones cost). */
  rowHeight: number;
  /** Rows rendered beyond each edge of the viewport, so a fast scroll shows no blank band. */
  overscan?: number;
  /** The scrolling element's ref, when the component already has one (else the hook makes it). */
  scrollRef?: RefObject<HTMLDivElement | null>;
}

/**
 * TanStack's virtualizer as a Preact hook: attach `scrollRef` to the scrolling element and render only
 * `virtualizer.getVirtualItems()`. It re-renders the component when the visible range changes.
 */
export function useVirtualRows({ count, rowHeight, overscan = 12, scrollRef: given }: VirtualRowsOptions) {
  const own = useRef<HTMLDivElement>(null);
  const scrollRef = given ?? own;
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const options = {
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan,
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    onChange: () => rerender(undefined),
  };
  const virtualizer = useMemo(() => new Virtualizer<HTMLDivElement, HTMLDivElement>(options), []);
  virtualizer.setOptions(options);
  useLayoutEffect(() => virtualizer._didMount(), []);
  useLayoutEffect(() => virtualizer._willUpdate());
  return { virtualizer, scrollRef };
}

export interface Column<Row> {
  key: string;
  header: ComponentChild;
  /** A CSS grid track: `6em`, `minmax(8em, 1fr)`… */
  width: string;
  cell: (row: Row) => ComponentChild;
  align?: 'start' | 'end';
  /** Set when the column can be sorted by clicking its header. */
  sortable?: boolean;
}

export interface VirtualTableProps<Row> {
  rows: readonly Row[];
  columns: readonly Column<Row>[];
  rowKey: (row: Row) => string;
  rowHeight?: number;
  /** `data-testid` of each body row, for tests. */
  rowTestId?: string;
  /** More attributes of each body row (`data-*` naming what it shows, for tests and styles). */
  rowAttributes?: (row: Row) => Record<string, string>;
  sort?: { key: string; dir: 'asc' | 'desc' };
  onSort?: (key: string) => void;
  /** Extra class on the scrolling element (its height comes from CSS). */
  class?: string;
  label?: string;
  empty?: ComponentChild;
}

/**
 * A table whose body is virtualized: only the rows in view (plus overscan) are in the DOM, placed by
 * transform inside a spacer as tall as all rows. Columns are a CSS grid shared by header and rows, so
 * they line up without measuring. The header stays in view while the body scrolls.
 */
export function VirtualTable<Row>(props: VirtualTableProps<Row>) {
  const { rows, columns, rowKey, rowHeight = 28, rowTestId, sort, onSort } = props;
  const { virtualizer, scrollRef } = useVirtualRows({ count: rows.length, rowHeight });
  const template = { gridTemplateColumns: columns.map((c) => c.width).join(' ') };
  const items = virtualizer.getVirtualItems();
  return (
    <div
      ref={scrollRef}
      class={`vtable ${props.class ?? ''}`}
      // As tall as its rows up to the height CSS allows (--vtable-max): a short table leaves no empty box.
      style={{
        height: `min(${(rows.length + (rows.length === 0 ? 3 : 1)) * rowHeight + 4}px, var(--vtable-max, 480px))`,
      }}
      role="table"
      aria-label={props.label}
      aria-rowcount={rows.length + 1}
    >
      <div class="vtable-head" role="row" aria-rowindex={1} style={template}>
        {columns.map((column) => {
          const sorted = sort?.key === column.key ? sort.dir : null;
          return (
            <div
              key={column.key}
              role="columnheader"
              class={`vtable-cell vtable-align-${column.align ?? 'start'}`}
              aria-sort={
                sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : column.sortable ? 'none' : undefined
              }
            >
              {column.sortable && onSort ? (
                <button type="button" class="vtable-sort" onClick={() => onSort(column.key)}>
                  {column.header}
                  <span class="vtable-arrow" aria-hidden="true">
                    {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                  </span>
                </button>
              ) : (
                column.header
              )}
            </div>
          );
        })}
      </div>
      {rows.length === 0 && props.empty ? <div class="vtable-empty">{props.empty}</div> : null}
      <div class="vtable-body" style={{ height: `${virtualizer.getTotalSize()}px` }}>
        {items.map((item) => {
          const row = rows[item.index]!;
          return (
            <div
              key={rowKey(row)}
              role="row"
              aria-rowindex={item.index + 2}
              data-testid={rowTestId}
              {...props.rowAttributes?.(row)}
              class={`vtable-row ${item.index % 2 ? 'vtable-odd' : ''}`}
              style={{ ...template, height: `${rowHeight}px`, transform: `translateY(${item.start}px)` }}
            >
              {columns.map((column) => (
                <div key={column.key} role="cell" class={`vtable-cell vtable-align-${column.align ?? 'start'}`}>
                  {column.cell(row)}
                </div>
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}
