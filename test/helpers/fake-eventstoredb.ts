/**
 * A stand-in for an EventStoreDB node that speaks its gRPC read protocol
 * (streams.proto `Read`: stream reads, filtered reads of $all, filtered
 * subscriptions with their confirmation), over a log kept in memory, so that
 * the adapter runs through the real @eventstore/db-client where no server can
 * run. Only what the adapter reads is served; appends go straight into the
 * log (`append`). It also records every request, and can fail or end the
 * subscriptions it serves, as a node that dies or restarts does.
 * The positions follow the server's rules as the adapter relies on them:
 * reads of $all include the position they start at, subscriptions start
 * strictly after it, and a filtered read reads on until `count` events match.
 */
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, status, type ServerWritableStream } from '@grpc/grpc-js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';

const { ReadReq, ReadResp } = streamsPb;
type ReadRequest = InstanceType<typeof ReadReq>;
type ReadResponse = InstanceType<typeof ReadResp>;

export interface FakeEvent {
  streamId: string;
  type: string;
  data: unknown;
  revision: bigint;
  position: bigint;
  id: string;
}

export interface FakeEventStoreDb {
  url: string;
  /** Appends to a stream; live subscriptions get the events. */
  append(streamId: string, events: { type: string; data?: unknown }[]): FakeEvent[];
  /** Every read request received (the options, as plain objects). */
  requests: ReturnType<ReadRequest['toObject']>['options'][];
  /** Ends every open subscription with an error status, as a dying node does. */
  failSubscriptions(code: status, details: string): void;
  /** Ends every open subscription cleanly. */
  endSubscriptions(): void;
  /** Refuses every subscription from now on with this status (undefined: accepts them again). */
  refuseSubscriptions(refusal: { code: status; details: string } | undefined): void;
  close(): Promise<void>;
}

type Matches = (event: FakeEvent) => boolean;

function filterOf(options: InstanceType<typeof ReadReq.Options>): Matches {
  if (!options.hasFilter()) return () => true;
  const filter = options.getFilter()!;
  const onType = filter.hasEventType();
  const prefixes = (onType ? filter.getEventType() : filter.getStreamIdentifier())!.getPrefixList();
  return (event) => prefixes.some((prefix) => (onType ? event.type : event.streamId).startsWith(prefix));
}

function response(event: FakeEvent): ReadResponse {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(event.id);
  recorded.setId(id);
  const stream = new sharedPb.StreamIdentifier();
  stream.setStreamName(Buffer.from(event.streamId));
  recorded.setStreamIdentifier(stream);
  recorded.setStreamRevision(event.revision.toString());
  recorded.setCommitPosition(event.position.toString());
  recorded.setPreparePosition(event.position.toString());
  recorded.getMetadataMap().set('type', event.type);
  recorded.getMetadataMap().set('content-type', 'application/json');
  recorded.getMetadataMap().set('created', (BigInt(Date.now()) * 10_000n).toString());
  recorded.setData(Buffer.from(JSON.stringify(event.data)));
  recorded.setCustomMetadata(
    Buffer.from(JSON.stringify({ actor: 'fake', correlationId: 'c', causationId: 'c', schemaVersion: 1 })),
  );
  const read = new ReadResp.ReadEvent();
  read.setEvent(recorded);
  read.setNoPosition(new sharedPb.Empty());
  const answer = new ReadResp();
  answer.setEvent(read);
  return answer;
}

export async function fakeEventStoreDb(): Promise<FakeEventStoreDb> {
  const log: FakeEvent[] = [];
  const requests: FakeEventStoreDb['requests'] = [];
  const live = new Set<{ call: ServerWritableStream<ReadRequest, ReadResponse>; matches: Matches }>();
  let refusal: { code: status; details: string } | undefined;

  function readStream(
    call: ServerWritableStream<ReadRequest, ReadResponse>,
    options: InstanceType<typeof ReadReq.Options>,
  ) {
    const streamOptions = options.getStream()!;
    const name = Buffer.from(streamOptions.getStreamIdentifier()!.getStreamName_asU8()).toString();
    const events = log.filter((e) => e.streamId === name);
    if (events.length === 0) {
      const notFound = new ReadResp.StreamNotFound();
      notFound.setStreamIdentifier(streamOptions.getStreamIdentifier());
      const answer = new ReadResp();
      answer.setStreamNotFound(notFound);
      call.write(answer);
      call.end();
      return;
    }
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
    const last = events[events.length - 1]!.revision;
    const from = streamOptions.hasRevision() ? BigInt(streamOptions.getRevision()) : streamOptions.hasEnd() ? last : 0n;
    const selected = backwards
      ? events.filter((e) => e.revision <= from).reverse()
      : events.filter((e) => e.revision >= from);
    for (const event of selected.slice(0, Number(options.getCount()))) call.write(response(event));
    call.end();
  }

  function readAll(
    call: ServerWritableStream<ReadRequest, ReadResponse>,
    options: InstanceType<typeof ReadReq.Options>,
  ) {
    const all = options.getAll()!;
    const matches = filterOf(options);
    const at = all.hasPosition() ? BigInt(all.getPosition()!.getCommitPosition()) : undefined;
    if (options.hasSubscription()) {
      if (refusal) {
        call.emit('error', refusal);
        return;
      }
      const confirmation = new ReadResp.SubscriptionConfirmation();
      confirmation.setSubscriptionId(randomUUID());
      const answer = new ReadResp();
      answer.setConfirmation(confirmation);
      call.write(answer);
      const after = all.hasEnd() ? (log[log.length - 1]?.position ?? 0n) : (at ?? -1n);
      for (const event of log) if (event.position > after && matches(event)) call.write(response(event));
      const subscriber = { call, matches };
      live.add(subscriber);
      call.on('cancelled', () => live.delete(subscriber));
      return;
    }
    const backwards = options.getReadDirection() === ReadReq.Options.ReadDirection.BACKWARDS;
    const selected = backwards
      ? log.filter((e) => at === undefined || e.position <= at).reverse()
      : log.filter((e) => at === undefined || e.position >= at);
    for (const event of selected.filter(matches).slice(0, Number(options.getCount()))) call.write(response(event));
    call.end();
  }

  const server = new Server();
  server.addService(streamsGrpc.StreamsService, {
    read(call: ServerWritableStream<ReadRequest, ReadResponse>) {
      const options = call.request.getOptions()!;
      requests.push(options.toObject());
      if (options.hasStream()) readStream(call, options);
      else readAll(call, options);
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );

  return {
    url: `esdb://127.0.0.1:${port}?tls=false`,
    requests,
    append(streamId, events) {
      let revision = BigInt(log.filter((e) => e.streamId === streamId).length);
      const stored = events.map((e) => {
        const event = {
          streamId,
          type: e.type,
          data: e.data ?? {},
          revision: revision++,
          position: BigInt(log.length + 1) * 100n,
          id: randomUUID(),
        };
        log.push(event);
        return event;
      });
      for (const { call, matches } of live) for (const event of stored) if (matches(event)) call.write(response(event));
      return stored;
    },
    failSubscriptions(code, details) {
      for (const subscriber of live) subscriber.call.emit('error', { code, details });
      live.clear();
    },
    endSubscriptions() {
      for (const subscriber of live) subscriber.call.end();
      live.clear();
    },
    refuseSubscriptions(next) {
      refusal = next;
    },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
