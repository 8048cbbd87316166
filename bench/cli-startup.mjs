#!/usr/bin/env node
/**
 * `node bench/cli-startup.mjs [runs]`: how long `trialog --help` takes to start and exit, beside
 * `node -e 0` (a Node process doing nothing), run alternately so both see the same machine load.
 * Prints the median and the fastest and slowest run of each, in milliseconds.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 20);
const bin = fileURLToPath(new URL('../bin/trialog.mjs', import.meta.url));
const commands = {
  'node -e 0': ['-e', '0'],
  'node bin/trialog.mjs --help': [bin, '--help'],
};

const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
for (let run = 0; run < runs; run++) {
  for (const [name, args] of Object.entries(commands)) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`${name} exited ${result.status}: ${result.stderr}`);
    times[name].push(elapsed);
  }
}

for (const [name, list] of Object.entries(times)) {
  list.sort((a, b) => a - b);
  const median = list[Math.floor(list.length / 2)];
  console.log(
    `${name.padEnd(30)} median ${median.toFixed(0).padStart(5)} ms   min ${list[0].toFixed(0).padStart(5)}   max ${list.at(-1).toFixed(0).padStart(5)}   (${runs} runs)`,
  );
}
