/**
 * The operator's commands on the log: replay (and verify) the read models,
 * export and import the whole log as NDJSON, and check the log's structure.
 * Each streams the log a page at a time; none holds it in memory.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { z } from 'zod';
import { currentShape } from '../app/event-shapes.js';
import { kindOfStream } from '../domain/kinds.js';
import { categoryOf, type EventMetadata, type EventStore, type NewEvent } from '../store/port.js';
import { readModelProjections } from '../trialog.js';
import { rebuildReadModels } from '../../projections/rebuild.js';
import { CHECKPOINT_NAME } from '../../projections/checkpoint.js';
import { UsageError } from './exit-codes.js';
import type { CliStore } from './store.js';
import { progress } from './progress.js';

/** A page of the log is cut at this much event data too (megabyte events). */
const PAGE_BYTES = 32 * 1024 * 1024;
const PAGE = 5000;

// ------------------------------------------------------------------ replay

export interface ReplayResult {
  events: number;
  identical?: boolean;
  /** The first difference found, when verifying. */
  difference?: string;
  rowCounts?: Record<string, number>;
}

/**
 * Rebuilds every read model from position zero into a scratch database. With
 * `verify`, compares it table by table with the live read models, as they stand
 * at the live checkpoint (read in one snapshot, so a running server is no bother).
 */
export async function replay(cli: CliStore, options: { verify: boolean }): Promise<ReplayResult> {
  const dir = mkdtempSync(join(tmpdir(), 'trialog-replay-'));
  const scratchPath = join(dir, 'read-models.db');
  const scratch = new Database(scratchPath);
  // A scratch copy: no need to survive a crash.
  scratch.pragma('journal_mode = OFF');
  scratch.pragma('synchronous = OFF');
  const live = options.verify ? cli.readModels() : undefined;
  // Attached before the snapshot is taken: SQLite attaches nothing inside a transaction.
  live?.prepare('ATTACH DATABASE ? AS replayed').run(scratchPath);
  try {
    // The head before the snapshot: the read models are a connection of their own (on SQLite too), so the head
    // cannot be read inside their snapshot; read first, a log that grows meanwhile cannot make them look behind.
    // (With a server running, a moment's lag still shows here.)
    const head = live ? await cli.store.headPosition() : undefined;
    live?.exec('BEGIN'); // one snapshot for the checkpoint and every table compared
    const upTo = live ? checkpointOf(live) : undefined;
    if (live) {
      // Live read models that stop short of the log are not identical to a replay of it, however they compare.
      if (head !== undefined && (upTo === undefined || upTo < head)) {
        return {
          events: 0,
          identical: false,
          difference: `the live read models stop at ${upTo ?? 'nothing (no checkpoint)'}, the log goes on to ${head}`,
        };
      }
    }
    const bar = progress('replay', await cli.size());
    const done = await rebuildReadModels(cli.store, scratch, readModelProjections, {
      upTo: options.verify ? (upTo ?? '') : undefined,
      onProgress: (p) => bar.update(p.events),
    });
    bar.finish(`${done.events.toLocaleString('en-US')} events`);
    if (!live) return { events: done.events };
    scratch.close();
    return { events: done.events, ...compareTables(live, scratchPath) };
  } finally {
    if (live?.inTransaction) live.exec('COMMIT');
    if (live) live.exec('DETACH DATABASE replayed');
    if (scratch.open) scratch.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkpointOf(db: SqliteDatabase): string | undefined {
  try {
    return (
      db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').get(CHECKPOINT_NAME) as
        { position: string } | undefined
    )?.position;
  } catch {
    return undefined; // no read models at all yet
  }
}

function compareTables(live: SqliteDatabase, scratchPath: string): Omit<ReplayResult, 'events'> {
  const scratch = new Database(scratchPath, { readonly: true });
  const tables = [...readModelProjections.flatMap((make) => make(scratch).tables), 'projection_checkpoints'];
  scratch.close();
  {
    const rowCounts: Record<string, number> = {};
    const liveTables = new Set(
      (live.prepare(`SELECT name FROM main.sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    for (const table of tables) {
      const count = (live.prepare(`SELECT count(*) AS n FROM replayed.${table}`).get() as { n: number }).n;
      if (!liveTables.has(table)) {
        return { identical: false, difference: `table ${table}: missing from the live read models`, rowCounts };
      }
      rowCounts[table] = count;
      const onlyLive = live.prepare(`SELECT * FROM main.${table} EXCEPT SELECT * FROM replayed.${table} LIMIT 1`).get();
      const onlyReplayed = live
        .prepare(`SELECT * FROM replayed.${table} EXCEPT SELECT * FROM main.${table} LIMIT 1`)
        .get();
      if (onlyLive || onlyReplayed) {
        const describe = (row: unknown) => (row ? JSON.stringify(row).slice(0, 500) : '(none)');
        return {
          identical: false,
          difference: `table ${table}: live has ${describe(onlyLive)}; the replay has ${describe(onlyReplayed)}`,
          rowCounts,
        };
      }
    }
    return { identical: true, rowCounts };
  }
}

// ------------------------------------------------------------------ export

/** One line of an export: an event in its current shape. */
const ExportedEvent = z.object({
  stream: z.string().min(1),
  revision: z.number().int().min(0),
  id: z.string().min(1),
  type: z.string().min(1),
  // Milliseconds at most: what every store here keeps exactly.
  timestamp: z.iso
    .datetime({ offset: true })
    .refine((t) => !/\.\d{4,}/.test(t), 'timestamps have at most millisecond precision'),
  data: z.json(),
  metadata: z.record(z.string(), z.json()),
});
type ExportedEvent = z.infer<typeof ExportedEvent>;

export async function exportLog(cli: CliStore, out: NodeJS.WritableStream): Promise<number> {
  const bar = progress('export', await cli.size());
  let after: string | undefined;
  let count = 0;
  for (;;) {
    const page = await cli.store.readAll({ after, maxCount: PAGE, maxBytes: PAGE_BYTES });
    for (const recorded of page) {
      const event = currentShape(recorded);
      const line: ExportedEvent = {
        stream: event.streamId,
        revision: Number(event.revision),
        id: event.id,
        type: event.type,
        timestamp: event.timestamp,
        data: event.data as ExportedEvent['data'],
        metadata: event.metadata as ExportedEvent['metadata'],
      };
      if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, 'drain');
    }
    count += page.length;
    bar.update(count);
    // A page cut short by its byte budget is not the end: only an empty one is.
    if (page.length === 0) break;
    after = page[page.length - 1]!.position;
  }
  bar.finish(`${count.toLocaleString('en-US')} events`);
  return count;
}

export async function exportToFile(cli: CliStore, path: string | undefined): Promise<number> {
  if (!path) return exportLog(cli, process.stdout);
  const file = createWriteStream(path);
  const count = await exportLog(cli, file);
  file.end();
  await once(file, 'finish');
  return count;
}

// ------------------------------------------------------------------ import

/** The target store holds events and --append was not given: a usage error (exit 2). */
export class ImportRefused extends UsageError {}

/**
 * Appends an export to the configured store, stream by stream in file order,
 * at the revisions the file gives, with its event ids and timestamps. An
 * import that was interrupted can be run again: the events it wrote are
 * recognised by their ids and not written twice. A store that holds other
 * events is refused unless `append` is set.
 */
/** `events` counts what this run wrote (a resumed import skips what an earlier run did). */
export async function importLog(
  cli: CliStore,
  path: string,
  options: { append: boolean },
): Promise<{ events: number; resumed: boolean }> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  const size = statSync(path).size;
  const bar = progress('import (bytes)', size);
  let bytes = 0;
  let lineNumber = 0;
  let events = 0;
  let batch: ExportedEvent[] = [];
  let resumed = false;
  let checked = false;
  let batchBytes = 0;
  const maxBatchBytes = Math.min(512 * 1024, Math.floor(cli.store.maxAppendBytes / 2));
  // The file's own order: each stream's revisions must go 0, 1, 2… with no gap and no repeat.
  const nextRevision = new Map<string, number>();

  const flush = async () => {
    if (batch.length === 0) return;
    let todo = batch;
    if (resumed) {
      // An earlier run may have written the start of this batch: skip what is there (same ids).
      const stored = await cli.store.readStream(todo[0]!.stream, {
        fromRevision: BigInt(todo[0]!.revision),
        maxCount: todo.length,
      });
      let done = 0;
      while (done < stored.length && stored[done]!.id === todo[done]!.id) done++;
      if (done < stored.length)
        throw new Error(`${todo[0]!.stream}: the store holds other events at the revisions this file gives`);
      todo = todo.slice(done);
    }
    if (todo.length > 0) {
      const first = todo[0]!;
      await cli.store.appendToStream(first.stream, todo.map(toNewEvent), {
        expectedRevision: first.revision === 0 ? 'no_stream' : BigInt(first.revision - 1),
      });
    }
    events += todo.length;
    batch = [];
    batchBytes = 0;
  };

  for await (const text of lines) {
    lineNumber++;
    bytes += Buffer.byteLength(text) + 1;
    if (text.trim() === '') continue;
    const parsed = ExportedEvent.safeParse(safeJson(text));
    if (!parsed.success)
      throw new Error(`line ${lineNumber}: not an exported event: ${parsed.error.issues[0]!.message}`);
    const event = parsed.data;
    const due = nextRevision.get(event.stream) ?? event.revision;
    if (event.revision !== due) {
      throw new Error(`line ${lineNumber}: ${event.stream} revision ${event.revision} where ${due} was due`);
    }
    nextRevision.set(event.stream, event.revision + 1);
    if (!checked) {
      checked = true;
      resumed = await isResumption(cli.store, event);
      if (!resumed && !options.append && (await cli.store.headPosition()) !== undefined) {
        throw new ImportRefused('the target store is not empty: pass --append to add to it');
      }
    }
    // One append per run of consecutive events of a stream, at most 500 events and 512 KiB, or half the store's
    // largest append (what an event gains on the way, its original id and time in metadata, fits the other half);
    // the same grouping on every run, so a retry matches. One event larger than the store takes is refused whole.
    const lineBytes = Buffer.byteLength(text);
    if (
      batch.length > 0 &&
      (batch[0]!.stream !== event.stream || batch.length >= 500 || batchBytes + lineBytes > maxBatchBytes)
    ) {
      await flush();
    }
    batch.push(event);
    batchBytes += lineBytes;
    bar.update(bytes);
  }
  await flush();
  bar.finish(`${events.toLocaleString('en-US')} events${resumed ? ' (resumed)' : ''}`);
  return { events, resumed };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function toNewEvent(event: ExportedEvent): NewEvent {
  return {
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata as EventMetadata,
    timestamp: event.timestamp,
  };
}

/** The file's first event is in the store already: an earlier run of this import. */
async function isResumption(store: EventStore, first: ExportedEvent): Promise<boolean> {
  const [stored] = await store.readStream(first.stream, { fromRevision: BigInt(first.revision), maxCount: 1 });
  return stored?.id === first.id;
}

// ------------------------------------------------------------------ verify

export interface VerifyResult {
  events: number;
  streams: number;
  byCategory: Record<string, number>;
  /** How many problems in all; `problems` lists the first of them. */
  problemCount: number;
  problems: string[];
}

/**
 * Structural checks of the log: revisions contiguous per stream, every
 * event's stream of a known kind (src/domain/kinds.ts) and its data valid
 * against its schema (after upcasting), and the history of every stream whose
 * kind has rules for it (a job's transitions, the key ring's creations and
 * revocations) legal event by event.
 */
export async function verifyLog(cli: CliStore, maxProblems = 20): Promise<VerifyResult> {
  const bar = progress('verify', await cli.size());
  const nextRevision = new Map<string, bigint>();
  /** The folded state of each stream whose kind checks its history. */
  const folded = new Map<string, unknown>();
  const result: VerifyResult = { events: 0, streams: 0, byCategory: {}, problemCount: 0, problems: [] };
  const problem = (text: string) => {
    result.problemCount++;
    if (result.problems.length < maxProblems) result.problems.push(text);
  };
  let after: string | undefined;
  for (;;) {
    const page = await cli.store.readAll({ after, maxCount: PAGE, maxBytes: PAGE_BYTES });
    for (const event of page) {
      result.events++;
      const category = categoryOf(event.streamId);
      result.byCategory[category] = (result.byCategory[category] ?? 0) + 1;
      const expected = nextRevision.get(event.streamId) ?? 0n;
      if (event.revision !== expected)
        problem(`${event.streamId}: revision ${event.revision} where ${expected} was due`);
      nextRevision.set(event.streamId, event.revision + 1n);
      const kind = kindOfStream(event.streamId);
      if (!kind) {
        problem(`${event.streamId}@${event.revision}: a stream of no known kind`);
        continue;
      }
      try {
        const parsed = kind.parse(event);
        if (kind.illegalEvent) {
          const before: unknown = folded.has(event.streamId) ? folded.get(event.streamId) : kind.initialState;
          const illegal = kind.illegalEvent(before, parsed);
          if (illegal) problem(`${event.streamId}@${event.revision}: ${illegal}`);
          // Go on from where the event leaves the stream, so one bad event is reported once, not again with each after it.
          try {
            folded.set(event.streamId, kind.evolve(before, parsed));
          } catch {
            // an event that cannot apply at all (a job's before JobCreated) leaves the state as it was
          }
        }
      } catch (error) {
        problem(`${event.streamId}@${event.revision} ${event.type}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
    bar.update(result.events);
    // A page cut short by its byte budget is not the end: only an empty one is.
    if (page.length === 0) break;
    after = page[page.length - 1]!.position;
  }
  result.streams = nextRevision.size;
  bar.finish(`${result.events.toLocaleString('en-US')} events`);
  return result;
}
