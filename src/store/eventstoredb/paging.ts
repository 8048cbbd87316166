/**
 * Reading one stream of EventStoreDB page by page: each server call asks for
 * a bounded number of events (`maxCount`) from a revision, and is read lazily
 * (breaking out cancels it), so no server call is longer than a page, however
 * long the stream; and a page of the global log filtered to one stream starts
 * at the stream's first revision after the cursor instead of at its start.
 */

/** The events of one page, oldest first; `revision` says where the next page starts. */
export type ReadPage<T extends { revision: bigint }> = (fromRevision: bigint, maxCount: number) => AsyncIterable<T>;

/** The events from `fromRevision` on, read in pages of `pageSize`, until a page comes back short. */
export async function* inPages<T extends { revision: bigint }>(
  readPage: ReadPage<T>,
  fromRevision: bigint,
  pageSize: number,
): AsyncGenerator<T> {
  let from = fromRevision;
  for (;;) {
    let count = 0;
    for await (const event of readPage(from, pageSize)) {
      count++;
      from = event.revision + 1n;
      yield event;
    }
    if (count < pageSize) return;
  }
}

export interface StreamProbe {
  /** The event at exactly this position of the global log, if there is one there. */
  eventAt(position: string): Promise<{ streamId: string; revision: bigint } | undefined>;
  /** The stream's first event at or after this revision (the stream's start may have been truncated). */
  eventFrom(revision: bigint): Promise<{ revision: bigint; position: string } | undefined>;
  /** The stream's last event. */
  lastEvent(): Promise<{ revision: bigint; position: string } | undefined>;
}

/**
 * The first revision of `streamId` whose event lies after `after` in the
 * global log (a revision past the end when none does). A cursor is usually
 * the position of the stream's own event (the previous page's last): one read.
 * Otherwise the stream's positions grow with its revisions, so a binary search
 * finds it in a logarithmic number of one-event reads.
 */
export async function firstRevisionAfter(streamId: string, after: string, probe: StreamProbe): Promise<bigint> {
  const at = await probe.eventAt(after);
  if (at?.streamId === streamId) return at.revision + 1n;
  const last = await probe.lastEvent();
  if (last === undefined) return 0n;
  if (last.position <= after) return last.revision + 1n;
  // Invariant: every revision below `low` is at or before `after`; the event from `high` is after it.
  let low = 0n;
  let high = last.revision;
  while (low < high) {
    const middle = (low + high) / 2n;
    const event = await probe.eventFrom(middle);
    // Reading from `middle` starts at `event`: no revision between them exists.
    if (event === undefined || event.position > after) high = middle;
    else low = event.revision + 1n;
  }
  return low;
}
