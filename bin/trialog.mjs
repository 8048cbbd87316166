#!/usr/bin/env node
// The `trialog` command: the built CLI (`npm run build`, which `npm ci` runs, compiles src/ into dist/).
// One import, so that starting costs only what the CLI itself loads. Tests run src/cli/main.ts
// through tsx instead (test/helpers/commands.ts), so they never test a stale build.
const cli = new URL('../dist/src/cli/main.js', import.meta.url);
try {
  await import(cli.href);
} catch (error) {
  const { existsSync } = await import('node:fs');
  if (existsSync(cli)) throw error;
  console.error(
    `trialog: not built (${cli.pathname} is missing): run \`npm run build\` in the trialog package (npm ci runs it)`,
  );
  process.exit(2);
}
