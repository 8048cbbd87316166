/**
 * A server-side filtered read of $all. The server has had it since 20.6 (the
 * same request as a read, with filter options); @eventstore/db-client 6.2.1
 * sends reads of $all with "no filter" only, and filters subscriptions alone.
 * This adds the read the way the client adds its own methods: its request
 * type, its stream creator, its event conversion; only the filter options
 * differ from its `readAll` (they are set as its `subscribeToAll` sets them).
 * The server reads on until `maxCount` events have matched or $all ends, so a
 * page shorter than asked is the end of the log.
 */
import {
  BACKWARDS,
  END,
  EVENT_TYPE,
  START,
  type AllStreamResolvedEvent,
  type Direction,
  type EventStoreDBClient,
  type Filter,
  type ReadPosition,
  type StreamingRead,
} from '@eventstore/db-client';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import { ReadStream } from '@eventstore/db-client/dist/streams/utils/ReadStream.js';
import { convertGrpcEvent } from '@eventstore/db-client/dist/utils/convertGrpcEvent.js';
import type { CallOptions, Metadata } from '@grpc/grpc-js';

const { ReadReq } = streamsPb;
type ReadReq = InstanceType<typeof ReadReq>;

export interface FilteredReadOptions {
  direction: Direction;
  fromPosition: ReadPosition;
  maxCount: number;
  filter: Filter;
}

/** The read request, as the client's `readAll` builds it but with the filter set. */
export function filteredReadRequest({ direction, fromPosition, maxCount, filter }: FilteredReadOptions): ReadReq {
  const options = new ReadReq.Options();
  const all = new ReadReq.Options.AllOptions();
  if (fromPosition === START) all.setStart(new sharedPb.Empty());
  else if (fromPosition === END) all.setEnd(new sharedPb.Empty());
  else {
    const position = new ReadReq.Options.Position();
    position.setCommitPosition(fromPosition.commit.toString(10));
    position.setPreparePosition(fromPosition.prepare.toString(10));
    all.setPosition(position);
  }
  options.setAll(all);
  options.setResolveLinks(false);
  options.setCount(String(maxCount));
  const uuid = new ReadReq.Options.UUIDOption();
  uuid.setString(new sharedPb.Empty());
  options.setUuidOption(uuid);
  options.setReadDirection(
    direction === BACKWARDS ? ReadReq.Options.ReadDirection.BACKWARDS : ReadReq.Options.ReadDirection.FORWARDS,
  );

  const expression = new ReadReq.Options.FilterOptions.Expression();
  if ('prefixes' in filter) expression.setPrefixList([...filter.prefixes]);
  if ('regex' in filter) expression.setRegex(filter.regex);
  const filterOptions = new ReadReq.Options.FilterOptions();
  if (filter.filterOn === EVENT_TYPE) filterOptions.setEventType(expression);
  else filterOptions.setStreamIdentifier(expression);
  if (typeof filter.maxSearchWindow === 'number') filterOptions.setMax(filter.maxSearchWindow);
  else filterOptions.setCount(new sharedPb.Empty());
  filterOptions.setCheckpointintervalmultiplier(filter.checkpointInterval);
  options.setFilter(filterOptions);

  const request = new ReadReq();
  request.setOptions(options);
  return request;
}

/** The protected members of the client that its own `readAll` uses. */
interface ClientInternals {
  GRPCStreamCreator<C, T>(
    client: new (...args: never[]) => C,
    debugName: string,
    creator: (client: C) => T,
  ): () => Promise<T>;
  callArguments(options: object, callOptions?: CallOptions): [Metadata, CallOptions];
}

/** Iterate it to its end, or break out of it: the call is then cancelled. */
export function readAllFiltered(
  client: EventStoreDBClient,
  options: FilteredReadOptions,
): StreamingRead<AllStreamResolvedEvent> {
  const internals = client as unknown as ClientInternals;
  const request = filteredReadRequest(options);
  const createStream = internals.GRPCStreamCreator(streamsGrpc.StreamsClient, 'readAll', (grpc) =>
    // Reads of $all have no deadline, as the client's own readAll.
    grpc.read(request, ...internals.callArguments({}, { deadline: Infinity })),
  );
  return new ReadStream<AllStreamResolvedEvent>(createStream, convertGrpcEvent, {});
}
