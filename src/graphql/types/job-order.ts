/**
 * `jobs(orderBy: …)`: the order of a job list, and its cursors. Ordered by
 * creation, a cursor is the creation position (as before orderBy existed);
 * by another field, it carries that field's value too, so the next page
 * starts exactly after the last job seen, whatever was added meanwhile.
 */
import { badInput } from '../../domain/errors.js';
import type { EventStore } from '../../store/port.js';
import {
  DEFAULT_JOB_ORDER,
  type JobCursor,
  type JobOrder as JobOrderShape,
  type Page,
} from '../../../projections/jobs-queries.js';
import { builder } from '../builder.js';
import { positionCursor } from '../pagination.js';

export const JobOrderField = builder.enumType('JobOrderField', {
  values: {
    CREATED: { description: 'When the job was created (its position in the log).' },
    PRIORITY: { description: 'Its priority.' },
    OBJECTIVE: { description: "Its experiment objective's value; jobs without one come last in either direction." },
  } as const,
});

export const OrderDirection = builder.enumType('OrderDirection', {
  values: {
    ASC: { description: 'Smallest (oldest) first.' },
    DESC: { description: 'Largest (newest) first.' },
  } as const,
});

export const JobOrder = builder.inputType('JobOrder', {
  description: 'How a job list is ordered: by one field, then by creation in the same direction.',
  fields: (t) => ({
    field: t.field({ type: JobOrderField, required: true }),
    direction: t.field({ type: OrderDirection, required: true, defaultValue: 'DESC' }),
  }),
});

/** The order asked for; oldest first when none was (the order `jobs` has always had). */
export function jobOrder(
  orderBy: { field: JobOrderShape['field']; direction?: JobOrderShape['direction'] | null } | null | undefined,
): JobOrderShape {
  return orderBy ? { field: orderBy.field, direction: orderBy.direction ?? 'DESC' } : DEFAULT_JOB_ORDER;
}

/** `after` read back into where the page starts; a cursor of another order or of nothing is refused. */
export function parseJobCursor(
  store: Pick<EventStore, 'normalizePosition'>,
  after: string | null | undefined,
  order: JobOrderShape,
): JobCursor | undefined {
  if (after === null || after === undefined) return undefined;
  if (order.field === 'CREATED') return { position: positionCursor(store, after)! };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(after, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    !(decoded[0] === null || typeof decoded[0] === 'number') ||
    typeof decoded[1] !== 'string'
  ) {
    throw badInput('after is not a cursor of this connection (in this order)');
  }
  return { value: decoded[0] as number | null, position: positionCursor(store, decoded[1])! };
}

/** A page whose cursors are strings again. */
export function withCursorText<T>(page: Page<T, JobCursor>): { cursor: string; node: T }[] {
  return page.items.map(({ cursor, node }) => ({ cursor: cursorText(cursor), node }));
}

function cursorText(cursor: JobCursor): string {
  return cursor.value === undefined
    ? cursor.position
    : Buffer.from(JSON.stringify([cursor.value, cursor.position])).toString('base64url');
}
