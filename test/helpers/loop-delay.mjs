/**
 * Preloaded into a server process (NODE_OPTIONS=--import): reports the
 * longest its event loop was held since the last report, on SIGUSR2, as a
 * line `loop-delay-max-ms <n>` on stdout. A test reads how long one request
 * blocked the server, from inside the server.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
process.on('SIGUSR2', () => {
  process.stdout.write(`loop-delay-max-ms ${Math.round(histogram.max / 1e6)}\n`);
  histogram.reset();
});
