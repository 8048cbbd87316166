/** A progress line on stderr (rate and ETA when the total is known), only on a terminal. */
export interface Progress {
  update(done: number): void;
  finish(summary: string): void;
}

export function progress(label: string, total?: number): Progress {
  const started = Date.now();
  let lastDraw = 0;
  const tty = process.stderr.isTTY === true;
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  return {
    update(done) {
      const now = Date.now();
      if (!tty || now - lastDraw < 100) return;
      lastDraw = now;
      const rate = done / Math.max((now - started) / 1000, 0.001);
      let line = `${label}: ${fmt(done)}`;
      if (total) {
        const eta = rate > 0 ? (total - done) / rate : 0;
        line += `/${fmt(total)} ${((done / total) * 100).toFixed(0)}%`;
        line += ` ${fmt(rate)}/s ETA ${eta.toFixed(0)}s`;
      } else {
        line += ` ${fmt(rate)}/s`;
      }
      process.stderr.write(`\r${line}\u001b[K`);
    },
    finish(summary) {
      if (tty) process.stderr.write('\r\u001b[K');
      const seconds = (Date.now() - started) / 1000;
      process.stderr.write(`${label}: ${summary} in ${seconds.toFixed(1)} s\n`);
    },
  };
}
