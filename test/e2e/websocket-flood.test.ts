/**
 * A socket that sends messages faster than the server parses them is slowed
 * down, not buffered without end: past one message's worth of unparsed bytes
 * the server stops reading from it (TCP pushes back on the client) until the
 * queue drains. Measured on a server running as its own process, with a
 * VIEWER key (any valid key may open a socket): the peak memory while 10 and
 * while 100 messages of 2 MB are sent at once, each a graphql-ws ping the
 * server answers with a pong, so every message is known to be handled. On main
 * before this bound, the 100 messages took about 200 MiB more than the 10.
 */
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedHeap, peakDuring } from '../helpers/memory.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { tempDir } from '../helpers/server.js';

const ADMIN_KEY = 'websocket-flood-admin-key-0123456789abcdef';
const MESSAGE_BYTES = 2 * 1024 * 1024;

let server: ServerProcess;
let dir: ReturnType<typeof tempDir>;
let viewerKey: string;

beforeAll(async () => {
  dir = tempDir();
  // One message may be as large as a body: 4 MiB here, so the bound (one message of waiting bytes) is visible.
  // A fixed heap makes garbage (each parsed message) collected early, so the peak measures what is held.
  server = await startServerProcess(`${dir.path}/trialog.db`, {
    TRIALOG_ADMIN_KEY: ADMIN_KEY,
    TRIALOG_MAX_BODY_BYTES: String(4 * 1024 * 1024),
    ...fixedHeap(128),
  });
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
    body: JSON.stringify({ query: 'mutation { createApiKey(input: { name: "flooder", role: VIEWER }) { key } }' }),
  });
  viewerKey = (await response.json()).data.createApiKey.key;
});
afterAll(async () => {
  await server.kill('SIGTERM');
  dir.remove();
});

/** Opens an acknowledged socket, sends `count` big pings at once, and resolves when every pong came back. */
async function flood(count: number): Promise<number> {
  const socket = new WebSocket(server.url.replace('http', 'ws'), 'graphql-transport-ws');
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${viewerKey}` } }));
  await new Promise<void>((resolve) => socket.once('message', () => resolve()));
  const ping = JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(MESSAGE_BYTES) } });
  let pongs = 0;
  const allAnswered = new Promise<void>((resolve, reject) => {
    socket.on('message', (data: Buffer) => {
      if (JSON.parse(data.toString()).type === 'pong' && ++pongs === count) resolve();
    });
    socket.once('close', (code) => reject(new Error(`closed with ${code} after ${pongs} pongs`)));
  });
  for (let i = 0; i < count; i++) socket.send(ping);
  await allAnswered;
  socket.close();
  return pongs;
}

describe('a WebSocket client that sends faster than the server parses', () => {
  it('is held back: memory stays bounded however many messages it queues, and every message is answered', async () => {
    const pid = server.child.pid!;
    const few = await peakDuring(pid, () => flood(10));
    const many = await peakDuring(pid, () => flood(100));
    const growth = { few: Math.round(few.peak - few.before), many: Math.round(many.peak - few.before) };
    console.log(
      `peak RSS over the idle server: 10 messages ${growth.few} MiB, 100 messages ${growth.many} MiB (2 MB each)`,
    );
    // Unbounded, the 90 more messages are 180 MB more held at once.
    expect(growth.many).toBeLessThan(growth.few + 60);
  });
});
