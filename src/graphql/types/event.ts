/** The audit log: `Event`, the `events` query and the `events` subscription. */
import { readLogPage, tailLog } from '../../app/audit-log.js';
import { currentShape } from '../../app/event-shapes.js';
import type { EventFilter as StoreEventFilter, RecordedEvent } from '../../store/port.js';
import { builder } from '../builder.js';
import { connectionTypes, pageSize, toConnection } from '../pagination.js';

export const Event = builder.objectRef<RecordedEvent>('Event').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.exposeString('type'),
    streamId: t.exposeString('streamId'),
    revision: t.int({ resolve: (e) => Number(e.revision) }),
    position: t.exposeString('position'),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => e.timestamp }),
    // In the current shape: an older version is shown upcast, with the version it was stored in.
    data: t.field({ type: 'JSON', resolve: (e) => currentShape(e).data }),
    metadata: t.field({ type: 'JSONObject', resolve: (e) => currentShape(e).metadata }),
  }),
});

export const EventConnection = connectionTypes<RecordedEvent>('Event', Event);

export const EventFilter = builder.inputType('EventFilter', {
  fields: (t) => ({
    streamId: t.string(),
    category: t.string({ description: "Category: the stream name's part before its first '-'." }),
    types: t.stringList(),
    from: t.field({ type: 'DateTime', description: 'Events at or after this time.' }),
    to: t.field({ type: 'DateTime', description: 'Events at or before this time.' }),
  }),
});

type EventFilterArg = {
  streamId?: string | null;
  category?: string | null;
  types?: readonly string[] | null;
  from?: Date | null;
  to?: Date | null;
};

export function toStoreFilter(filter: EventFilterArg | null | undefined): StoreEventFilter | undefined {
  if (!filter) return undefined;
  return {
    streamId: filter.streamId ?? undefined,
    category: filter.category ?? undefined,
    types: filter.types ?? undefined,
    from: filter.from?.toISOString(),
    to: filter.to?.toISOString(),
  };
}

builder.queryField('events', (t) =>
  t.field({
    type: EventConnection,
    description: 'The audit log, oldest first; `after` is a position or a cursor.',
    args: {
      filter: t.arg({ type: EventFilter }),
      first: t.arg.int({ defaultValue: 100 }),
      after: t.arg.string(),
    },
    resolve: async (_root, args, { trialog }) => {
      const first = pageSize(args.first, 100);
      const page = await readLogPage(trialog.store, toStoreFilter(args.filter), first, args.after ?? undefined);
      return toConnection(page.items, page.hasNextPage, args.after);
    },
  }),
);

builder.subscriptionField('events', (t) =>
  t.field({
    type: Event,
    description: 'The audit log from a position (exclusive), then live: no event missed or repeated.',
    args: { filter: t.arg({ type: EventFilter }), after: t.arg.string() },
    subscribe: (_root, args, { trialog }) =>
      tailLog(
        trialog.store,
        trialog.feed,
        () => trialog.runner.position,
        toStoreFilter(args.filter),
        args.after ?? undefined,
      ),
    resolve: (event) => event,
  }),
);
