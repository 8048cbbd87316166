/**
 * Applies the projection runner's batches on a worker thread of their own.
 *
 * Why: the server's main thread answers every request, and writing the read
 * models took a fifth to a quarter of it under load (a report of 1,000 points
 * is 1,000 inserts and their index and block rows), while the second core sat
 * partly idle. The runner still decides everything the read side promises on
 * the main thread — the order of batches, the live feed, who waits for which
 * position — and only hands the write over, awaiting it before the next
 * batch; events arriving meanwhile make the next batch larger, not later.
 *
 * The thread opens its own connection on the read-model file, which must
 * therefore be a file (not `:memory:`) and not the event store's: SQLite lets
 * one connection write a file at a time, and appends must not wait on a batch.
 * A thread that fails or dies fails every batch after it: the runner stops,
 * as it does when a batch cannot be applied in-process.
 */
import { Worker } from 'node:worker_threads';
import { eventWeight } from '../src/event-weight.js';
import type { RecordedEvent } from '../src/store/port.js';
import type { ApplyThreadData, DescribedError, FromApplyThread, ToApplyThread } from './apply-thread-messages.js';
import type { BatchApplier } from './read-model-writer.js';

/**
 * A batch is handed over in slices of about this many bytes of events, each applied (and checkpointed) in a
 * transaction of its own: what crosses to the thread is copied (structured clone), so a 16 MiB batch of a
 * catch-up over megabyte events would otherwise be held three times at once (here, in transit, there).
 */
const HAND_OVER_BYTES = 1024 * 1024;

/** Consecutive slices of `batch` of at most `maxBytes` each (a larger event is a slice of its own). */
export function slicesOf(batch: readonly RecordedEvent[], maxBytes: number): RecordedEvent[][] {
  const slices: RecordedEvent[][] = [];
  let slice: RecordedEvent[] = [];
  let bytes = 0;
  for (const event of batch) {
    const weight = eventWeight(event);
    if (slice.length > 0 && bytes + weight > maxBytes) {
      slices.push(slice);
      slice = [];
      bytes = 0;
    }
    slice.push(event);
    bytes += weight;
  }
  if (slice.length > 0) slices.push(slice);
  return slices;
}

interface Pending {
  resolve: () => void;
  reject: (error: Error) => void;
}

function errorOf(described: DescribedError): Error {
  const error = new Error(described.message) as Error & { code?: string };
  error.name = described.name;
  if (described.code !== undefined) error.code = described.code;
  return error;
}

/**
 * The worker's script. Built, it is the `.js` beside this module. From source (tsx, vitest) it is the
 * `.ts`, which a worker can only load once tsx's loader is registered inside it.
 */
function spawnWorker(data: ApplyThreadData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = new URL(`./apply-thread-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  // The thread's young generation is kept small: it holds one slice at a time, and V8's default (tens of
  // MiB of semi-spaces per isolate) showed in the server's peak memory as a second main thread's would.
  const options = { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 8 } };
  if (!fromSource) return new Worker(script, options);
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** Starts the thread; resolves once it has opened the file and built the projections, rejects if it cannot. */
export async function startApplyThread(path: string): Promise<BatchApplier> {
  const worker = spawnWorker({ path });
  const pending = new Map<number, Pending>();
  let nextId = 0;
  let failure: Error | undefined;
  let closing = false;
  let ready!: () => void;
  let notReady!: (error: Error) => void;
  const started = new Promise<void>((resolve, reject) => ((ready = resolve), (notReady = reject)));

  const fail = (error: Error) => {
    failure ??= error;
    notReady(failure);
    for (const waiting of pending.values()) waiting.reject(failure);
    pending.clear();
  };
  worker.on('message', (message: FromApplyThread) => {
    if (message.kind === 'ready') return ready();
    const waiting = message.id === undefined ? undefined : pending.get(message.id);
    if (message.id !== undefined) pending.delete(message.id);
    if (message.kind === 'applied') return waiting?.resolve();
    const error = errorOf(message.error);
    if (waiting) waiting.reject(error);
    else fail(error);
  });
  worker.on('error', (error) => fail(error));
  worker.on('exit', (code) => {
    if (!closing) fail(new Error(`the read models' apply thread exited (code ${code})`));
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  await started.catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });

  const post = (message: ToApplyThread) => worker.postMessage(message);
  const applySlice = (slice: readonly RecordedEvent[], appliedBefore: string | undefined) => {
    if (failure) return Promise.reject(failure);
    if (closing) return Promise.reject(new Error("the read models' apply thread is closed"));
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      post({ kind: 'apply', id, batch: slice, appliedBefore });
    });
  };
  return {
    async apply(batch: readonly RecordedEvent[], appliedBefore: string | undefined) {
      let before = appliedBefore;
      for (const slice of slicesOf(batch, HAND_OVER_BYTES)) {
        await applySlice(slice, before);
        before = slice[slice.length - 1]!.position;
      }
    },
    async close() {
      if (closing) return exited;
      closing = true;
      // The thread finishes what it was sent, closes its connection, and ends.
      post({ kind: 'close' });
      // A thread stuck in a batch (a lock held elsewhere) must not hold the shutdown up for ever.
      const stuck = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(stuck);
      for (const waiting of pending.values()) waiting.reject(new Error("the read models' apply thread is closed"));
      pending.clear();
    },
  };
}
