/**
 * A finished job's outputs: `result.json` (its result) and every regular file
 * under the output directory, listed as artifacts with file URIs and sha256.
 * Nothing is read through a symbolic link or from outside the output
 * directory, and nothing but regular files (see ./contained-files.ts); what
 * is skipped is said.
 */
import { createHash } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { ArtifactInput, JsonObject } from '../client/client.js';
import { kindOf, openContained } from './contained-files.js';

export const RESULT_FILE = 'result.json';

/**
 * The JSON object in result.json, null when there is none; throws with a
 * reason when it cannot be the result. The reason never quotes the file: it
 * becomes the job's error, which every reader sees.
 */
export async function readResult(
  outputDir: string,
  realOutputDir: string,
  maxBytes: number,
): Promise<JsonObject | null> {
  const opened = await openContained(join(outputDir, RESULT_FILE), realOutputDir);
  if (opened === null) return null;
  if ('refused' in opened) {
    throw new Error(
      `${RESULT_FILE} is ${opened.refused}; the worker reads only regular files inside the output directory`,
    );
  }
  const { handle, size } = opened;
  let text: string;
  try {
    // Whitespace aside, a file this much larger than the limit cannot hold a result the server takes.
    if (size > maxBytes * 4) throw new Error(`${RESULT_FILE} is ${size} bytes; the server takes at most ${maxBytes}`);
    text = (await handle.readFile()).toString('utf8');
  } finally {
    await handle.close();
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text: say what is wrong, not what is there.
    throw new Error(
      `${RESULT_FILE} is not valid JSON (${Buffer.byteLength(text)} bytes; its content is not copied here)`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${RESULT_FILE} must hold a JSON object`);
  }
  return value as JsonObject;
}

export interface ArtifactListing {
  artifacts: ArtifactInput[];
  /** Regular files past the limit, not listed. */
  omitted: number;
  /** What was not read, and why: `symbolic link a/b -> /etc/passwd: links are not followed`. */
  skipped: string[];
}

/**
 * Every regular file under `outputDir`, by relative path, with its sha256.
 * At most `limit` are listed (the server's artifactsPerJob); `omitted` counts
 * the rest. Symbolic links (to files or directories) and other non-regular
 * files are skipped, and so is a file that turns out to lie elsewhere.
 */
export async function listArtifacts(outputDir: string, realOutputDir: string, limit: number): Promise<ArtifactListing> {
  const skipped: string[] = [];
  const files: string[] = [];
  const nameOf = (path: string) => relative(outputDir, path).split(sep).join('/');
  const walk = async (dir: string): Promise<void> => {
    // Entry types come from the directory itself (lstat-like): a link to a directory is not entered.
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(path);
      else if (entry.isSymbolicLink()) {
        const target = await readlink(path).catch(() => '?');
        skipped.push(`symbolic link ${nameOf(path)} -> ${target}: links are not followed`);
      } else skipped.push(`${nameOf(path)}: not a regular file (${kindOf(entry)})`);
    }
  };
  await walk(outputDir);
  files.sort();
  const artifacts: ArtifactInput[] = [];
  for (const path of files.slice(0, limit)) {
    // Checked again as it is opened: it may have become a link since it was listed.
    const opened = await openContained(path, realOutputDir);
    if (opened === null) continue; // removed since
    if ('refused' in opened) {
      skipped.push(`${nameOf(path)}: ${opened.refused}`);
      continue;
    }
    const hash = createHash('sha256');
    await pipeline(opened.handle.createReadStream(), hash); // closes the handle
    artifacts.push({ name: nameOf(path), uri: pathToFileURL(path).href, sha256: hash.digest('hex') });
  }
  return { artifacts, omitted: Math.max(0, files.length - limit), skipped };
}
