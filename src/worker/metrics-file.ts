/**
 * Follows the file named by TRIALOG_METRICS_FILE: the command appends JSON
 * lines, the worker reads what was added since it last looked. While the
 * command runs, a line is read only once it ends with a newline (a
 * half-written line waits); the last read, after the command exited, takes
 * a final line without one too. Reads never overlap, so no line is read twice.
 *
 * The file is the command's to make, so it may be a symbolic link (to
 * /etc/passwd, whose lines would land in the job's log as "not JSON") or a
 * FIFO (which would block the read): only a regular file inside the run
 * directory is read (see ./contained-files.ts); anything else throws
 * UnreadableMetricsFile.
 */
import { openContained } from './contained-files.js';

/** The metrics file is there but is not read; the message says what it is ("a symbolic link"). */
export class UnreadableMetricsFile extends Error {}

export class MetricsFileTail {
  private offset = 0;
  private partial = '';
  private reading: Promise<string[]> = Promise.resolve([]);

  constructor(
    private readonly path: string,
    /** The real path of the directory the file must lie in. */
    private readonly realRoot: string,
  ) {}

  /** The complete lines appended since the last read (none when the file does not exist yet). */
  readNewLines(options: { final?: boolean } = {}): Promise<string[]> {
    this.reading = this.reading.then(
      () => this.read(options.final === true),
      () => this.read(options.final === true),
    );
    return this.reading;
  }

  /** True while a read is under way: a periodic caller skips its turn rather than queueing up. */
  get busy(): boolean {
    return this.pendingReads > 0;
  }

  private pendingReads = 0;

  private async read(final: boolean): Promise<string[]> {
    this.pendingReads++;
    try {
      return await this.readOnce(final);
    } finally {
      this.pendingReads--;
    }
  }

  private async readOnce(final: boolean): Promise<string[]> {
    const opened = await openContained(this.path, this.realRoot);
    if (opened === null) return [];
    if ('refused' in opened) throw new UnreadableMetricsFile(opened.refused);
    const { handle, size } = opened;
    try {
      if (size < this.offset) {
        // Truncated or replaced: start over from its beginning.
        this.offset = 0;
        this.partial = '';
      }
      let text = this.partial;
      if (size > this.offset) {
        const buffer = Buffer.alloc(size - this.offset);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.offset);
        this.offset += bytesRead;
        text += buffer.subarray(0, bytesRead).toString('utf8');
      }
      const lines = text.split('\n');
      this.partial = final ? '' : (lines.pop() ?? '');
      return lines.map((l) => l.trim()).filter((l) => l.length > 0);
    } finally {
      await handle.close();
    }
  }
}
