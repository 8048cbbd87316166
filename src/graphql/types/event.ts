/** The audit log: `Event`, the `events` query and the `events` subscription. */
import type { GraphQLResolveInfo } from 'graphql';
import { readerFilter, type EventFields } from '../../app/audit-log.js';
import { currentMetadata, currentShape } from '../../app/event-shapes.js';
import { withoutSecretHashes } from '../../domain/access/visibility.js';
import type { Role } from '../../domain/access/keys.js';
import { DomainError } from '../../domain/errors.js';
import type { EventFilter as StoreEventFilter, RecordedEvent, RecordedEventPart } from '../../store/port.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { connectionTypes, pageSize, toConnection } from '../pagination.js';
import { selectedFieldNames } from '../selection.js';

/**
 * An event as a page read it: `data` and `metadata` are there when the query
 * selects them (see `selectedEventFields`), and only then.
 */
export const Event = builder.objectRef<RecordedEventPart>('Event').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    type: t.exposeString('type'),
    streamId: t.exposeString('streamId'),
    revision: t.int({ resolve: (e) => Number(e.revision) }),
    position: t.exposeString('position'),
    timestamp: t.field({ type: 'DateTime', resolve: (e) => e.timestamp }),
    // In the current shape: an older version is shown upcast, with the version it was stored in. Never with a
    // secret's hash (a key's, a lease token's): every reader, history and subscription alike, gets the data here.
    data: t.field({
      type: 'JSON',
      resolve: (e) => withoutSecretHashes(currentShape(withParts(e, 'data', 'metadata')).data),
    }),
    metadata: t.field({ type: 'JSONObject', resolve: (e) => currentMetadata(withParts(e, 'metadata')) }),
  }),
});

/** The event, read with the parts a field needs: a part missing is a bug in reading the selection. */
function withParts(event: RecordedEventPart, ...parts: ('data' | 'metadata')[]): RecordedEvent {
  const missing = parts.find((part) => !(part in event));
  if (missing) throw new Error(`event ${event.id} was read without its ${missing}, which the query selects`);
  return event as RecordedEvent;
}

export const EventConnection = connectionTypes<RecordedEventPart>('Event', Event);

/**
 * Which of the events' large parts the query selects, at `path` below the
 * field being resolved (['edges', 'node'] for a connection, [] for the
 * subscription): a page reads data and metadata only when asked for.
 */
export function selectedEventFields(info: GraphQLResolveInfo, path: readonly string[]): EventFields {
  const names = selectedFieldNames(info, path);
  return { data: names.has('data'), metadata: names.has('metadata') };
}

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

/** The caller's role (the access plugin refused the unauthenticated before any resolver runs). */
function roleOf({ principal }: GraphQLContext): Role {
  if (principal instanceof DomainError) throw principal;
  return principal.role;
}

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
    resolve: async (_root, args, ctx, info) => {
      const first = pageSize(ctx.limits, args.first, 100);
      const fields = selectedEventFields(info, ['edges', 'node']);
      const filter = readerFilter(roleOf(ctx), toStoreFilter(args.filter), ctx.limits);
      const page = await ctx.trialog.history.logPage(filter, first, args.after ?? undefined, fields);
      return toConnection(page.items, page.hasNextPage, args.after);
    },
  }),
);

builder.subscriptionField('events', (t) =>
  t.field({
    type: Event,
    description: 'The audit log from a position (exclusive), then live: no event missed or repeated.',
    args: { filter: t.arg({ type: EventFilter }), after: t.arg.string() },
    subscribe: (_root, args, ctx, info) =>
      ctx.trialog.live.events(
        readerFilter(roleOf(ctx), toStoreFilter(args.filter), ctx.limits),
        args.after ?? undefined,
        selectedEventFields(info, []),
      ),
    resolve: (event) => event,
  }),
);

builder.queryField('logPosition', (t) =>
  t.string({
    nullable: true,
    description:
      "The log position this server's read models have reached (null while the log is empty). Read it before a first page of anything, then subscribe `after` it: no change is missed (one may come twice, in the page and in the feed).",
    resolve: (_root, _args, ctx) => ctx.trialog.live.position ?? null,
  }),
);
