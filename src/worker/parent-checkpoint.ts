/**
 * Where a PBT child finds its parent's checkpoint. The parent's artifacts
 * are whatever the WORKER that ran it reported: a URI there must not point
 * the child's command at any directory of this machine (/root/.ssh, another
 * user's files). So a file artifact is handed on only when its file and its
 * directory lie, links resolved, under this worker's work directory or a
 * root the operator allowed (`--checkpoint-root`). The check is here, in the
 * worker, because only the worker knows its own directories.
 */
import { stat, realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isInside } from './contained-files.js';

export interface ParentArtifact {
  name: string;
  uri: string;
}

export interface ParentCheckpoint<A extends ParentArtifact> {
  /** The directory the first qualifying file artifact was written to (real path); empty for none. */
  checkpointFrom: string;
  /** The artifacts to hand on: those not local files as they are, local files that qualify. */
  artifacts: A[];
  /** Why each file artifact left out was left out. */
  notPassed: string[];
}

/**
 * The parent's artifacts as the child may see them. `realRoots` are real
 * paths (links resolved) of the directories whose files qualify.
 */
export async function parentCheckpoint<A extends ParentArtifact>(
  artifacts: A[],
  realRoots: string[],
): Promise<ParentCheckpoint<A>> {
  const result: ParentCheckpoint<A> = { checkpointFrom: '', artifacts: [], notPassed: [] };
  for (const artifact of artifacts) {
    if (!artifact.uri.startsWith('file:')) {
      // Not a path on this machine: the command fetches it (or not) as it sees fit.
      result.artifacts.push(artifact);
      continue;
    }
    const verdict = await qualify(artifact, realRoots);
    if (typeof verdict === 'string') {
      result.notPassed.push(`parent artifact ${artifact.name} not passed: ${verdict}`);
      continue;
    }
    result.artifacts.push(artifact);
    result.checkpointFrom ||= verdict.dir;
  }
  return result;
}

/** The artifact's real directory when it qualifies; else why not. */
async function qualify(artifact: ParentArtifact, realRoots: string[]): Promise<{ dir: string } | string> {
  let file: string;
  try {
    file = fileURLToPath(artifact.uri);
  } catch {
    return 'its URI is not a local file path';
  }
  // The output directory: one level up per segment of the artifact's relative name.
  let dir = file;
  for (let i = 0; i < artifact.name.split('/').length; i++) dir = dirname(dir);
  let realFile: string;
  let realDir: string;
  try {
    [realFile, realDir] = await Promise.all([realpath(file), realpath(dir)]);
  } catch {
    return `${file} is not on this machine`;
  }
  const outside = [realDir, realFile].find((path) => !realRoots.some((root) => isInside(path, root)));
  if (outside !== undefined) return `${outside} is outside the work directory and every --checkpoint-root`;
  const isDirectory = await stat(realDir).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
  if (!isDirectory) return `${realDir} is not a directory`;
  return { dir: realDir };
}
