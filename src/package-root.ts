/**
 * The package's root directory, where package.json and dashboard/dist are. Found by walking up
 * from this module rather than by a fixed `../`: the module runs from src/ under tsx (tests,
 * scripts) and from dist/src/ once built (`npm start`, bin/trialog.mjs, the container image).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function nearestDirectoryWithPackageJson(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const PACKAGE_ROOT = nearestDirectoryWithPackageJson(dirname(fileURLToPath(import.meta.url)));
