/**
 * The commands tests spawn, run from the sources through tsx: what `npm start` and
 * bin/trialog.mjs run once built (dist/), without a build that could be older than the
 * sources being tested. test/e2e/built-package.test.ts runs the built commands themselves.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** tsx's loader by absolute URL: `--import tsx` would resolve from the child's working directory. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Node arguments that run a TypeScript file of this repository (path relative to its root). */
export function typeScriptArgs(file: string, ...args: string[]): string[] {
  return ['--import', TSX_LOADER, join(REPOSITORY_ROOT, file), ...args];
}

/** Node arguments for `trialog ARGS`, from any working directory. */
export function trialogArgs(...args: string[]): string[] {
  return typeScriptArgs('src/cli/main.ts', ...args);
}

/** Node arguments for the server `npm start` runs. */
export function serverArgs(): string[] {
  return typeScriptArgs('src/main.ts');
}
