/**
 * The thread that writes the read models (see ./apply-thread.ts): opens its
 * own connection on the read-model file, builds the server's projections on
 * it, and applies each batch it is sent, one at a time, answering when the
 * batch's transaction has committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openReadModelDb } from '../src/read-model-db.js';
import { ReadModelWriter } from './read-model-writer.js';
import { readModelProjections } from './read-models.js';
import type { ApplyThreadData, FromApplyThread, ToApplyThread } from './apply-thread-messages.js';

const port = parentPort!;
const { path } = workerData as ApplyThreadData;
const send = (message: FromApplyThread) => port.postMessage(message);
const described = (error: unknown) => ({
  name: error instanceof Error ? error.name : 'Error',
  message: error instanceof Error ? error.message : String(error),
  code: (error as { code?: unknown }).code === undefined ? undefined : String((error as { code: unknown }).code),
});

try {
  const db = openReadModelDb(path);
  const writer = new ReadModelWriter(db, readModelProjections);
  // The runner sends one batch at a time; the chain keeps them in order all the same.
  let previous: Promise<unknown> = Promise.resolve();
  port.on('message', (message: ToApplyThread) => {
    if (message.kind === 'close') {
      previous = previous.then(() => {
        db.close();
        port.close();
      });
      return;
    }
    previous = previous.then(() =>
      writer.apply(message.batch, message.appliedBefore).then(
        () => send({ kind: 'applied', id: message.id }),
        (error: unknown) => send({ kind: 'failed', id: message.id, error: described(error) }),
      ),
    );
  });
  send({ kind: 'ready' });
} catch (error) {
  send({ kind: 'failed', id: undefined, error: described(error) });
  port.close();
}
