/**
 * Reading what a job's command left behind without being led anywhere else.
 * The command (or whatever wrote its files: a library, a helper it left
 * running, job data it trusted) may leave a symbolic link where a file is
 * expected, or a FIFO that blocks whoever opens it. The worker publishes what
 * it reads (a result every VIEWER reads, an artifact's hash), so it reads
 * only regular files whose real path lies inside the directory it made.
 *
 * How, without a window between checking and reading: the file is opened
 * with O_NOFOLLOW (a link as its last part is refused by the kernel) and
 * O_NONBLOCK (a FIFO opens at once instead of waiting for a writer), then
 * the open descriptor is checked: fstat says it is a regular file, and its
 * real path (from /proc/self/fd, which names the file opened, not whatever
 * the path leads to now) says it lies inside the root. A link among the
 * directories above it is caught by that last check.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export type Opened = { handle: FileHandle; size: number } | { refused: string };

/**
 * Opens `path` for reading when it is a regular file inside `realRoot` (a
 * real path, links resolved). Null when there is no such file; `refused`
 * says why one is not read ("a symbolic link", "not a regular file (a FIFO)"…).
 */
export async function openContained(path: string, realRoot: string): Promise<Opened | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'ELOOP') return { refused: 'a symbolic link' };
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) return refuse(handle, `not a regular file (${kindOf(stats)})`);
    const real = await realPathOf(handle, path);
    if (real === null || !isInside(real, realRoot))
      return refuse(handle, 'outside the output directory once links are resolved');
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function refuse(handle: FileHandle, why: string): Promise<{ refused: string }> {
  await handle.close();
  return { refused: why };
}

/** The real path of the file open as `handle`: what the descriptor names, else (no /proc) the path resolved. */
async function realPathOf(handle: FileHandle, path: string): Promise<string | null> {
  try {
    const named = await readlink(`/proc/self/fd/${handle.fd}`);
    // A file removed while open is named "… (deleted)": it is inside nothing.
    return named.endsWith(' (deleted)') ? null : named;
  } catch {
    return realpath(path).catch(() => null);
  }
}

/** True when `path` is `root` or lies below it (both real, absolute paths). */
export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** What a file that is not a regular one is, for a message. */
export function kindOf(
  entry: Pick<Stats, 'isDirectory' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice' | 'isSymbolicLink'>,
): string {
  if (entry.isSymbolicLink()) return 'a symbolic link';
  if (entry.isDirectory()) return 'a directory';
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  if (entry.isCharacterDevice() || entry.isBlockDevice()) return 'a device';
  return 'not a file';
}

/**
 * Throws unless `path` is a directory (not a link to one) of this process's
 * user. The worker makes the job's directories with mkdir -p, which goes
 * through whatever is there already: in a work directory others can write to,
 * a link or a directory planted under a job's id (ids are visible to every
 * reader) would put the job's outputs where someone else reads or writes them.
 */
export async function ensureOwnDirectory(path: string): Promise<void> {
  const stats = await lstat(path);
  if (stats.isSymbolicLink()) throw new Error(`${path} is a symbolic link`);
  if (!stats.isDirectory()) throw new Error(`${path} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && stats.uid !== uid) throw new Error(`${path} belongs to another user (uid ${stats.uid})`);
}
