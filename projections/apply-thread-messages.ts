/** What the projection runner and its apply thread say to each other (structured-cloned). */
import type { RecordedEvent } from '../src/store/port.js';

export interface ApplyThreadData {
  /** The read-model database file the thread opens a connection of its own on. */
  path: string;
}

export type ToApplyThread =
  { kind: 'apply'; id: number; batch: readonly RecordedEvent[]; appliedBefore: string | undefined } | { kind: 'close' };

export interface DescribedError {
  name: string;
  message: string;
  code: string | undefined;
}

export type FromApplyThread =
  | { kind: 'ready' }
  | { kind: 'applied'; id: number }
  /** `id` undefined: the thread could not start (opening the file or building the projections failed). */
  | { kind: 'failed'; id: number | undefined; error: DescribedError };
