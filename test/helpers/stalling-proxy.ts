/**
 * A TCP proxy in front of a server that can stop reading from it: the server
 * then sees exactly what a client that stops reading looks like (its writes
 * stall once the kernel's buffers are full), whatever the client library does
 * (`ws` resumes a paused socket of its own accord once it has parsed what it had).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface StallingProxy {
  /** The server's URL, through the proxy. */
  url: string;
  /** Stop reading from the server, on every connection through the proxy. */
  stall(): void;
  /** Read from the server again. */
  resume(): void;
  /** Drop every connection through the proxy at once, as a dying server or a broken network does; new ones still pass. */
  cut(): void;
  /** Bytes passed from the server to its clients so far, and when the last of them came (for a failure's message). */
  fromServer(): { bytes: number; lastAt: number | undefined };
  close(): Promise<void>;
}

export async function stallingProxy(serverUrl: string): Promise<StallingProxy> {
  const target = new URL(serverUrl);
  const upstreams = new Set<Socket>();
  let stalled = false;
  let bytesFromServer = 0;
  let lastFromServerAt: number | undefined;
  const proxy = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    upstreams.add(upstream);
    if (stalled) upstream.pause();
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => {
      bytesFromServer += chunk.length;
      lastFromServerAt = Date.now();
      client.write(chunk);
    });
    const end = () => {
      upstreams.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', () => client.end()).on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as { port: number };
  const url = new URL(serverUrl);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    stall: () => {
      stalled = true;
      for (const upstream of upstreams) upstream.pause();
    },
    resume: () => {
      stalled = false;
      for (const upstream of upstreams) upstream.resume();
    },
    fromServer: () => ({ bytes: bytesFromServer, lastAt: lastFromServerAt }),
    cut: () => {
      for (const upstream of upstreams) upstream.destroy(new Error('cut by the proxy'));
    },
    close: async () => {
      for (const upstream of upstreams) upstream.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
