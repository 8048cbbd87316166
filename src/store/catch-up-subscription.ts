import type { EventSubscription, RecordedEvent } from './port.js';

/**
 * A catch-up subscription for stores that can page their log and tell when
 * it may have grown. It pages from `after`, and when a page comes back empty
 * waits for a change and pages again, so the switch from backlog to live is
 * the same code path: no gap and no repeat by construction, since every page
 * starts strictly after the last event handed out.
 */
export function catchUpSubscription(source: {
  after: string | undefined;
  readPage: (after: string | undefined) => Promise<RecordedEvent[]>;
  waitForChange: (signal: AbortSignal) => Promise<void>;
}): EventSubscription {
  const abort = new AbortController();
  let last = source.after;

  async function* events(): AsyncGenerator<RecordedEvent> {
    while (!abort.signal.aborted) {
      const page = await source.readPage(last);
      if (page.length === 0) {
        await source.waitForChange(abort.signal);
        continue;
      }
      for (const event of page) {
        if (abort.signal.aborted) return;
        last = event.position;
        yield event;
      }
    }
  }

  const iterator = events();
  return {
    [Symbol.asyncIterator]: () => iterator,
    async close() {
      abort.abort();
      await iterator.return(undefined);
    },
  };
}
