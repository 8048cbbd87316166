/**
 * The embedded event store: one SQLite file (better-sqlite3) in WAL mode.
 *
 * - Durable before an append resolves (`synchronous: 'FULL'`, the default),
 *   with the fsync off the event loop: the connection commits without one and
 *   the WAL is fsynced on the thread pool (durable-head.ts), and no event
 *   leaves the store, to an append's caller or to any reader, before that.
 * - Group commit: appends that arrive in the same turn of the event loop are
 *   written in one transaction, each under its own savepoint (one append's
 *   failed revision check does not touch the others), and every group
 *   committed while an fsync runs shares the next one.
 * - Safe with several processes on one file: every append is an IMMEDIATE
 *   transaction (the write lock is taken before the revision is checked), with
 *   a busy timeout and retries on SQLITE_BUSY.
 * - The global position is an AUTOINCREMENT rowid, assigned under the write lock,
 *   so readers never see a later position before an earlier one.
 * - Other processes' appends are noticed by polling the head position while
 *   anyone waits for new events (cheap: one indexed max() per tick). The poll
 *   keeps the process alive, as an EventStoreDB subscription's socket does: a
 *   process waiting only for another process's append (a server catching up at
 *   start beside a busy writer) must not find its event loop empty and exit.
 *   It runs only while someone waits, and `close()` stops it.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import {
  DuplicateEventIdError,
  WrongExpectedRevisionError,
  categoryOf,
  type AppendResult,
  type EventFilter,
  type EventMetadata,
  type EventStore,
  type EventSubscription,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadShape,
  type RecordedEvent,
  type RecordedEventPart,
  type SubscribeOptions,
  type WholeEvents,
} from './port.js';
import { AppendTooLargeError, DEFAULT_MAX_APPEND_BYTES, serializedEventBytes } from './append-size.js';
import { catchUpSubscription } from './catch-up-subscription.js';
import { DurableHead, walFileSync, type SyncWal } from './durable-head.js';
import { statementCache, type PreparedBySql } from '../sqlite-statement-cache.js';

const POSITION_DIGITS = 16;
/** The connection's SQLite page cache, in KiB (see the constructor). */
const PAGE_CACHE_KIB = 4000;
const DEFAULT_PAGE = 1000;
/** Bytes of event data one page of a catch-up subscription may hold. */
const SUBSCRIPTION_PAGE_BYTES = 8 * 1024 * 1024;

export interface SqliteStoreOptions {
  /** FULL (default): every commit is fsynced before anything depends on it; NORMAL: none is (a process crash loses nothing, a power loss may). */
  synchronous?: 'FULL' | 'NORMAL';
  /** How the WAL is flushed with FULL (default: fdatasync of the file): for specs that watch or slow it. */
  syncWal?: SyncWal;
  /** How long a writer waits for another process's lock, in ms. */
  busyTimeoutMs?: number;
  /** How often waiting subscribers look for other processes' appends, in ms. */
  pollIntervalMs?: number;
  /** The largest append taken (append-size.ts); default: what SQLite takes. */
  maxAppendBytes?: number;
}

interface EventRow {
  position: number;
  id: string;
  stream_id: string;
  revision: number;
  type: string;
  timestamp: string;
  data: string;
  metadata: string;
}

/** A row as read with some columns left out (see `columnsOf`). */
type PartialRow = Omit<EventRow, 'data' | 'metadata'> & Partial<Pick<EventRow, 'data' | 'metadata'>>;

/**
 * The columns a read selects. `data` (possibly megabytes) is left out when not
 * wanted, and so is `metadata`, stored after it: reaching it walks the data's
 * overflow pages even though they are not returned.
 */
function columnsOf(shape: ReadShape): string {
  let columns = 'position, id, stream_id, revision, type, timestamp';
  if (shape.withData !== false) columns += ', data';
  if (shape.withMetadata !== false) columns += ', metadata';
  return columns;
}

export function formatSqlitePosition(position: number): string {
  return String(position).padStart(POSITION_DIGITS, '0');
}

function parsePosition(position: string | undefined): number {
  if (position === undefined) return 0;
  // Positions are SQLite rowids read as JS numbers: past 2^53 - 1 a number is no longer the position written
  // (9999999999999999 reads as 10^16), so such a string is not a position of this store.
  const value = /^\d{1,16}$/.test(position) ? Number(position) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new RangeError(`not a position of this store: ${position}`);
  return value;
}

function toPart(row: PartialRow): RecordedEventPart {
  const event: RecordedEventPart = {
    id: row.id,
    type: row.type,
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: formatSqlitePosition(row.position),
    timestamp: row.timestamp,
  };
  if (row.data !== undefined) event.data = JSON.parse(row.data) as unknown;
  if (row.metadata !== undefined) event.metadata = JSON.parse(row.metadata) as EventMetadata;
  return event;
}

/** How many of the leading events fit a byte budget: at least one, so that paging progresses. */
function countWithin(sizes: readonly { bytes: number }[], maxBytes: number): number {
  let total = 0;
  let count = 0;
  for (const { bytes } of sizes) {
    total += bytes;
    if (count > 0 && total > maxBytes) break;
    count++;
  }
  return count;
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One group commit, for metrics: how many appends (and events) shared it, and how long from its COMMIT until durable. */
export interface GroupCommit {
  appends: number;
  events: number;
  commitSeconds: number;
}

/** An event to append with its data and metadata as JSON: serialized once, to be measured and written. */
interface SerializedEvent extends NewEvent {
  dataJson: string;
  metadataJson: string;
}

interface QueuedAppend {
  streamId: string;
  events: readonly SerializedEvent[];
  expected: ExpectedRevision;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export class SqliteEventStore implements EventStore {
  /**
   * The store's own connection, handed to no one: its `synchronous` setting is the appends' durability,
   * and nothing but this class writes through it. The read models open a connection of their own
   * (src/read-model-db.ts), with their own durability setting.
   */
  readonly #db: SqliteDatabase;
  private readonly pollIntervalMs: number;
  private readonly waiters = new Set<() => void>();
  private pollTimer: NodeJS.Timeout | undefined;
  private lastSeenHead = 0;
  private closed = false;
  /** Undefined when commits are not fsynced (NORMAL, or a database in memory). */
  private readonly durableHead: DurableHead | undefined;
  private readonly walFile: ReturnType<typeof walFileSync> | undefined;

  readonly maxAppendBytes: number;

  constructor(filename: string, options: SqliteStoreOptions = {}) {
    this.maxAppendBytes = options.maxAppendBytes ?? DEFAULT_MAX_APPEND_BYTES.sqlite;
    this.#db = new Database(filename);
    this.pollIntervalMs = options.pollIntervalMs ?? 20;
    // better-sqlite3 builds SQLite with a 16 MB page cache per connection; this one appends and reads streams
    // the OS caches too. Bounded here so that the server's connections (store, read models, their thread)
    // cost 12 MB of page cache at most, not 48 (measured: 25-30 MiB less peak in the log scenarios).
    this.#db.pragma(`cache_size = ${-PAGE_CACHE_KIB}`);
    const journal = this.#db.pragma('journal_mode = WAL', { simple: true });
    // The commit itself never fsyncs: with FULL the WAL is fsynced off the event loop (durable-head.ts).
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        position  INTEGER PRIMARY KEY AUTOINCREMENT,
        id        TEXT NOT NULL UNIQUE,
        stream_id TEXT NOT NULL,
        revision  INTEGER NOT NULL,
        category  TEXT NOT NULL,
        type      TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        data      TEXT NOT NULL,
        metadata  TEXT NOT NULL,
        UNIQUE (stream_id, revision)
      );
      CREATE INDEX IF NOT EXISTS events_by_category ON events (category, position);
      CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
    `);
    this.sql = prepareStatements(this.#db);
    this.prepared = statementCache(this.#db);
    this.appendTransaction = this.prepareAppend();
    this.groupTransaction = this.prepareGroup();
    this.lastSeenHead = this.headNumber();
    if ((options.synchronous ?? 'FULL') === 'FULL' && journal === 'wal') {
      this.walFile = options.syncWal ? undefined : walFileSync(this.#db.name);
      // Nothing is known durable yet: what an earlier process committed without a sync is synced before it is read.
      this.durableHead = new DurableHead(() => this.headNumber(), options.syncWal ?? this.walFile!.sync, 0);
    }
  }

  /** Resolves once the events up to `position` are durable (at once without FULL). */
  private durableThrough(position: number): Promise<void> {
    return this.durableHead ? this.durableHead.through(position) : Promise.resolve();
  }

  /** Events, once durable: nothing is handed out that a power loss could still take back. */
  private async whenDurable(parts: RecordedEventPart[]): Promise<RecordedEventPart[]> {
    const last = parts[parts.length - 1];
    if (last) await this.durableThrough(Number(last.position));
    return parts;
  }

  private readonly sql: ReturnType<typeof prepareStatements>;
  /** Reads whose SQL depends on their options (columns, filter). */
  private readonly prepared: PreparedBySql;
  private readonly appendTransaction: ReturnType<SqliteEventStore['prepareAppend']>;
  private readonly groupTransaction: ReturnType<SqliteEventStore['prepareGroup']>;
  private queued: QueuedAppend[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly groupCommitListeners: ((commit: GroupCommit) => void)[] = [];

  /** Called after every group commit (metrics: group sizes and fsync time). */
  onGroupCommit(listener: (commit: GroupCommit) => void): void {
    this.groupCommitListeners.push(listener);
  }

  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    if (events.length === 0) return Promise.reject(new RangeError('appendToStream needs at least one event'));
    if (this.closed) return Promise.reject(new Error('the event store is closed'));
    let bytes = 0;
    const serialized = events.map((event): SerializedEvent => {
      // `undefined` has no JSON: stored as null, what reading it back as JSON would give anyway.
      const dataJson = (JSON.stringify(event.data) as string | undefined) ?? 'null';
      const metadataJson = (JSON.stringify(event.metadata) as string | undefined) ?? 'null';
      bytes += serializedEventBytes(event.type, dataJson, metadataJson);
      return { ...event, dataJson, metadataJson };
    });
    if (bytes > this.maxAppendBytes)
      return Promise.reject(new AppendTooLargeError(streamId, bytes, this.maxAppendBytes));
    const expected = options.expectedRevision ?? 'any';
    return new Promise((resolve, reject) => {
      this.queued.push({ streamId, events: serialized, expected, resolve, reject });
      this.flushTimer ??= setImmediate(() => void this.flushQueued());
    });
  }

  /**
   * Writes every queued append in one transaction, then answers each once it
   * is durable. The next group may commit meanwhile: it shares the next fsync.
   */
  private async flushQueued(): Promise<void> {
    this.flushTimer = undefined;
    const group = this.queued.splice(0);
    if (group.length === 0) return;
    let committed: ReturnType<SqliteEventStore['commitGroup']>;
    try {
      committed = await this.commitWithRetries(group);
      await this.durableThrough(committed.head);
    } catch (error) {
      // Not written, or written and not known to be durable: not acknowledged (a retry with the same ids finds them).
      for (const append of group) append.reject(error);
      return;
    }
    this.notifyWaiters();
    if (this.groupCommitListeners.length > 0) {
      const commit = {
        appends: group.length,
        events: group.reduce((n, append) => n + append.events.length, 0),
        commitSeconds: (performance.now() - committed.started) / 1000,
      };
      for (const listener of this.groupCommitListeners) listener(commit);
    }
    group.forEach((append, i) => {
      const outcome = committed.outcomes[i]!;
      if ('error' in outcome) append.reject(outcome.error);
      else append.resolve(outcome.result);
    });
  }

  private async commitWithRetries(
    group: readonly QueuedAppend[],
  ): Promise<ReturnType<SqliteEventStore['commitGroup']>> {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.commitGroup(group);
      } catch (error) {
        // busy_timeout already waited; a few more tries ride out long bursts of writers in other processes.
        if (!isBusy(error) || attempt >= 20 || this.closed) throw error;
        await sleep(5 + Math.random() * 20);
      }
    }
  }

  /**
   * The group's transaction, begun and committed here rather than by a transaction function, so that the
   * time from its COMMIT until durable is measured on its own. The appends inside run under savepoints.
   * Answers with the position the group must be durable through: the last its answers name.
   */
  private commitGroup(group: readonly QueuedAppend[]) {
    const { begin, commit, rollback } = this.sql;
    begin.run();
    try {
      const outcomes = this.groupTransaction(group);
      const started = performance.now();
      commit.run();
      // What the group's answers name must be durable: its own events, or those a retried append found stored.
      const head = outcomes.reduce(
        (last, o) => Math.max(last, 'result' in o ? parsePosition(o.result.position) : 0),
        0,
      );
      return { outcomes, started, head };
    } catch (error) {
      if (this.#db.inTransaction) rollback.run();
      throw error;
    }
  }

  private prepareGroup() {
    return this.#db.transaction((group: readonly QueuedAppend[]) =>
      group.map((append): { result: AppendResult } | { error: unknown } => {
        try {
          // A transaction function called inside another runs under a SAVEPOINT: its failure undoes only itself.
          return { result: this.appendTransaction(append.streamId, append.events, append.expected) };
        } catch (error) {
          if (isBusy(error)) throw error;
          return { error };
        }
      }),
    );
  }

  private prepareAppend() {
    const { revisionOf, byId, insert } = this.sql;
    return this.#db.transaction(
      (streamId: string, events: readonly SerializedEvent[], expected: ExpectedRevision): AppendResult => {
        const retried = this.findRetriedAppend(byId, streamId, events);
        if (retried) return retried;
        const current = revisionOf.get(streamId)?.revision ?? null;
        const actual = current === null ? undefined : BigInt(current);
        if (!revisionMatches(expected, actual)) {
          throw new WrongExpectedRevisionError(streamId, expected, actual);
        }
        const now = new Date().toISOString();
        const category = categoryOf(streamId);
        let revision = current ?? -1;
        let position = 0;
        for (const event of events) {
          revision += 1;
          const info = insert.run(
            event.id,
            streamId,
            revision,
            category,
            event.type,
            event.timestamp === undefined ? now : new Date(event.timestamp).toISOString(),
            event.dataJson,
            event.metadataJson,
          );
          position = Number(info.lastInsertRowid);
        }
        return { nextExpectedRevision: BigInt(revision), position: formatSqlitePosition(position) };
      },
    );
  }

  /**
   * An append whose event ids are all stored already, in order, on the same
   * stream, is a retry of an acknowledged append: answer as the first time.
   */
  private findRetriedAppend(
    byId: { get(id: string): EventRow | undefined },
    streamId: string,
    events: readonly NewEvent[],
  ): AppendResult | undefined {
    const rows = events.map((event) => byId.get(event.id));
    if (rows.every((row) => row === undefined)) return undefined;
    const faithful = rows.every(
      (row, i) =>
        row !== undefined && row.stream_id === streamId && (i === 0 || row.revision === rows[i - 1]!.revision + 1),
    );
    if (!faithful) {
      const reused = events.find((_, i) => rows[i] !== undefined)!;
      throw new DuplicateEventIdError(reused.id);
    }
    const last = rows[rows.length - 1]!;
    return { nextExpectedRevision: BigInt(last.revision), position: formatSqlitePosition(last.position) };
  }

  readStream(streamId: string, options?: ReadStreamOptions & WholeEvents): Promise<RecordedEvent[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEventPart[]>;
  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEventPart[]> {
    const where = 'WHERE stream_id = ? AND revision >= ? ORDER BY revision LIMIT ?';
    const from = Number(options.fromRevision ?? 0n);
    const limit = this.limitWithin(options, where, [streamId, from], options.maxCount ?? -1);
    if (limit === 0) return [];
    const rows = this.prepared(`SELECT ${columnsOf(options)} FROM events ${where}`).all(streamId, from, limit);
    return this.whenDurable((rows as PartialRow[]).map(toPart));
  }

  readAll(options?: ReadAllOptions & WholeEvents): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEventPart[]>;
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEventPart[]> {
    return this.whenDurable(this.readAllSync(options));
  }

  private readAllSync(options: ReadAllOptions & WholeEvents): RecordedEvent[];
  private readAllSync(options: ReadAllOptions): RecordedEventPart[];
  private readAllSync(options: ReadAllOptions): RecordedEventPart[] {
    const { sql, params } = filterClause(options.filter);
    const where = `WHERE position > ?${sql} ORDER BY position LIMIT ?`;
    const args = [parsePosition(options.after), ...params];
    const limit = this.limitWithin(options, where, args, options.maxCount ?? DEFAULT_PAGE);
    if (limit === 0) return [];
    const rows = this.prepared(`SELECT ${columnsOf(options)} FROM events ${where}`).all(...args, limit);
    return (rows as PartialRow[]).map(toPart);
  }

  /**
   * The page's LIMIT under its byte budget, cut from the stored lengths before any data is read:
   * octet_length() of a TEXT column comes from the record header, the data itself is not loaded.
   * The statement that reads the page then reads the same rows, since a stream only grows at its
   * end and positions only grow (assigned under the write lock).
   */
  private limitWithin(shape: ReadShape, where: string, args: unknown[], limit: number): number {
    if (shape.maxBytes === undefined || shape.withData === false) return limit;
    const sizes = this.prepared(`SELECT octet_length(data) AS bytes FROM events ${where}`).all(...args, limit);
    return countWithin(sizes as { bytes: number }[], shape.maxBytes);
  }

  subscribeToAll(options: SubscribeOptions = {}): EventSubscription {
    return catchUpSubscription({
      after: options.after,
      // Cut at a byte budget too: a catch-up over megabyte events (log batches, training data) holds one page.
      readPage: (after) =>
        this.whenDurable(
          this.readAllSync({
            after,
            filter: options.filter,
            maxCount: DEFAULT_PAGE,
            maxBytes: SUBSCRIPTION_PAGE_BYTES,
          }),
        ) as Promise<RecordedEvent[]>,
      waitForChange: (signal) => this.waitForChange(signal),
    });
  }

  normalizePosition(position: string): string {
    return formatSqlitePosition(parsePosition(position));
  }

  async headPosition(): Promise<string | undefined> {
    const head = this.headNumber();
    return head === 0 ? undefined : formatSqlitePosition(head);
  }

  /** Resolves when an append may have happened here or in another process. */
  waitForChange(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        // No one left waiting: nothing to keep the process alive for.
        if (this.waiters.size === 0 && this.pollTimer) {
          clearTimeout(this.pollTimer);
          this.pollTimer = undefined;
        }
        resolve();
      };
      if (this.closed || signal?.aborted) return resolve();
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
      this.schedulePoll();
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Appends already accepted are written before the file closes.
    if (this.flushTimer) {
      clearImmediate(this.flushTimer);
      await this.flushQueued();
    }
    this.closed = true;
    this.notifyWaiters();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.durableHead?.idle();
    this.walFile?.close();
    this.#db.close();
  }

  private schedulePoll(): void {
    if (this.pollTimer || this.closed) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      if (this.closed || this.waiters.size === 0) return;
      const head = this.headNumber();
      if (head !== this.lastSeenHead) this.notifyWaiters();
      else this.schedulePoll();
    }, this.pollIntervalMs);
  }

  private notifyWaiters(): void {
    if (!this.closed) this.lastSeenHead = this.headNumber();
    for (const wake of [...this.waiters]) wake();
  }

  private headNumber(): number {
    return this.sql.head.get()?.head ?? 0;
  }

  /** Prepared statements by text; bounded, since filters (lists of types) can make many texts. */
}

function prepareStatements(db: SqliteDatabase) {
  return {
    revisionOf: db.prepare<[string], { revision: number | null }>(
      'SELECT max(revision) AS revision FROM events WHERE stream_id = ?',
    ),
    byId: db.prepare<[string], EventRow>('SELECT * FROM events WHERE id = ?'),
    insert: db.prepare<[string, string, number, string, string, string, string, string]>(
      `INSERT INTO events (id, stream_id, revision, category, type, timestamp, data, metadata)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    head: db.prepare<[], { head: number | null }>('SELECT max(position) AS head FROM events'),
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
}

function revisionMatches(expected: ExpectedRevision, actual: bigint | undefined): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === undefined;
  if (expected === 'stream_exists') return actual !== undefined;
  return actual === expected;
}

function filterClause(filter: EventFilter | undefined): { sql: string; params: unknown[] } {
  let sql = '';
  const params: unknown[] = [];
  if (filter?.streamId !== undefined) {
    sql += ' AND stream_id = ?';
    params.push(filter.streamId);
  }
  if (filter?.category !== undefined) {
    sql += ' AND category = ?';
    params.push(filter.category);
  }
  if (filter?.types && filter.types.length > 0) {
    sql += ` AND type IN (${filter.types.map(() => '?').join(', ')})`;
    params.push(...filter.types);
  }
  for (const category of filter?.excludeCategories ?? []) {
    sql += ' AND category <> ?';
    params.push(category);
  }
  // Timestamps are stored as toISOString() text, which orders as time does.
  if (filter?.from !== undefined) {
    sql += ' AND timestamp >= ?';
    params.push(new Date(filter.from).toISOString());
  }
  if (filter?.to !== undefined) {
    sql += ' AND timestamp <= ?';
    params.push(new Date(filter.to).toISOString());
  }
  return { sql, params };
}
