/**
 * A finished job's outputs: `result.json` (its result) and every file under
 * the output directory, listed as artifacts with file URIs and sha256.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import type { ArtifactInput, JsonObject } from '../client/client.js';

export const RESULT_FILE = 'result.json';

/** The JSON object in result.json, null when there is none; throws with a reason when it is not an object. */
export async function readResult(outputDir: string): Promise<JsonObject | null> {
  let text: string;
  try {
    text = await readFile(join(outputDir, RESULT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${RESULT_FILE} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${RESULT_FILE} must hold a JSON object`);
  }
  return value as JsonObject;
}

/**
 * Every regular file under `outputDir`, by relative path, with its sha256.
 * At most `limit` are listed (the server's artifactsPerJob); `omitted` counts the rest.
 */
export async function listArtifacts(outputDir: string, limit: number): Promise<{ artifacts: ArtifactInput[]; omitted: number }> {
  const entries = await readdir(outputDir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  const artifacts: ArtifactInput[] = [];
  for (const path of files.slice(0, limit)) {
    artifacts.push({ name: relative(outputDir, path).split(sep).join('/'), uri: pathToFileURL(path).href, sha256: await sha256Of(path) });
  }
  return { artifacts, omitted: Math.max(0, files.length - limit) };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
