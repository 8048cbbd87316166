/**
 * Splits a byte stream into lines without ever holding more than one line's
 * worth: a line longer than `maxBytes` is handed on cut (with a marker) and
 * the rest of it, up to its newline, is skipped. (readline keeps an unended
 * line whole, so a command printing a gigabyte with no newline would exhaust
 * the worker's memory.)
 */
import { StringDecoder } from 'node:string_decoder';

export function splitLines(
  stream: NodeJS.ReadableStream,
  maxBytes: number,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  let skipping = false;
  const take = (text: string) => {
    let start = 0;
    for (let newline = text.indexOf('\n', start); newline !== -1; newline = text.indexOf('\n', start)) {
      const piece = text.slice(start, newline);
      start = newline + 1;
      if (skipping) {
        skipping = false;
        continue;
      }
      onLine(stripCarriageReturn(partial + piece));
      partial = '';
    }
    if (skipping) return;
    partial += text.slice(start);
    // Characters are at most 4 bytes: past maxBytes/4 characters, measure; past maxBytes, cut.
    if (partial.length > maxBytes / 4 && Buffer.byteLength(partial) > maxBytes) {
      onLine(`${partial.slice(0, maxBytes / 4)}… [line cut by the worker: longer than ${maxBytes} bytes]`);
      partial = '';
      skipping = true;
    }
  };
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      take(decoder.end());
      if (partial && !skipping) onLine(stripCarriageReturn(partial));
      partial = '';
      resolve();
    };
    stream.on('data', (chunk: Buffer) => take(decoder.write(chunk)));
    stream.once('end', finish);
    // A destroyed pipe ends with 'close' and no 'end'.
    stream.once('close', finish);
  });
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
