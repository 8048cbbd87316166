/**
 * Commits made durable off the event loop: the store's connection commits
 * with `synchronous=NORMAL` (the WAL is written, not fsynced), and the WAL is
 * then fsynced here, on libuv's thread pool, before anything depends on the
 * commit. What SQLite's `synchronous=FULL` would do inside COMMIT, on the one
 * thread that serves every request, is the same fsync of the same file, done
 * while the server goes on with other work; one fsync covers every commit
 * made before it started, so commits that arrive during one share the next.
 *
 * The rule that keeps this as safe as FULL: no event leaves the store before
 * it is durable. An append is answered, and a read hands out an event, only
 * once a sync that started after the event's commit has completed. A read
 * that meets another process's commit not yet synced syncs the WAL itself
 * (one file: its fsync makes the other's frames durable too). So a decision
 * made on an event, an answer about it, a read model or a subscriber never
 * outlives a power loss that takes the event away.
 *
 * The WAL stays in place while the store's connection is open (SQLite
 * removes it only when its last connection closes), so the file is opened
 * once; a WAL found replaced all the same (another inode at its path) is
 * reopened before syncing. An fsync that fails leaves it unknown what reached
 * the disk (the kernel may have dropped the dirty pages): the store refuses
 * everything after, rather than answer on a later fsync's success.
 */
import { closeSync, fdatasync, fstatSync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** Flushes the WAL to stable storage and calls back. */
export type SyncWal = (done: (error: Error | null) => void) => void;

interface Waiting {
  position: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class DurableHead {
  private durable: number;
  private syncing = false;
  private waiting: Waiting[] = [];
  private failure: Error | undefined;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param committedHead the last position committed, as the database shows it now (to any process)
   * @param sync flushes the WAL; every commit made before it was called is durable when it calls back
   * @param durable the last position already known durable
   */
  constructor(
    private readonly committedHead: () => number,
    private readonly sync: SyncWal,
    durable: number,
  ) {
    this.durable = durable;
  }

  /** Resolves once every event up to `position` is durable; rejects once a sync has failed. */
  through(position: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (position <= this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.push({ position, resolve, reject });
      this.startSync();
    });
  }

  /** Resolves once no sync is running (before the WAL's file is closed). */
  idle(): Promise<void> {
    if (!this.syncing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private startSync(): void {
    if (this.syncing) return;
    this.syncing = true;
    // Read before the sync starts: everything committed by now is in the WAL the sync flushes.
    const target = this.committedHead();
    this.sync((error) => {
      this.syncing = false;
      if (error) {
        this.failure = new Error(`the event store's WAL could not be made durable: ${error.message}`);
        for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
      } else {
        this.durable = Math.max(this.durable, target);
        const still: Waiting[] = [];
        for (const waiter of this.waiting) {
          if (waiter.position <= this.durable) waiter.resolve();
          else still.push(waiter);
        }
        this.waiting = still;
        // Commits made while this sync ran: the next one covers them.
        if (still.length > 0) return this.startSync();
      }
      for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }
}

/**
 * `fdatasync` of a database's WAL file (the data and the size needed to read
 * it back, as PostgreSQL's WAL on Linux does by default). The first sync also
 * syncs the directory, so that the WAL file itself survives (SQLite does the
 * same for a new WAL under FULL).
 */
export function walFileSync(databasePath: string): { sync: SyncWal; close(): void } {
  const walPath = `${databasePath}-wal`;
  let fd: number | undefined;
  let inode: number | undefined;
  const current = (): number => {
    const onDisk = statSync(walPath).ino;
    if (fd !== undefined && inode === onDisk) return fd;
    if (fd !== undefined) closeSync(fd);
    fd = openSync(walPath, 'r');
    inode = fstatSync(fd).ino;
    const directory = openSync(dirname(walPath), 'r');
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
    return fd;
  };
  return {
    sync(done) {
      let file: number;
      try {
        file = current();
      } catch (error) {
        return done(error as Error);
      }
      fdatasync(file, (error) => done(error));
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
