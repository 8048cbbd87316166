/**
 * The load generator's GraphQL calls: node:http with keep-alive sockets,
 * lighter on the CPU than fetch (the generator shares the machine's two
 * cores with the server, so what it spends is taken from the server).
 */
import { Agent, request } from 'node:http';

export type Gql = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export function gqlOver(url: string, maxSockets: number): { gql: Gql; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const target = new URL(url);
  const gql: Gql = (query, variables) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ query, variables });
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              const answer = JSON.parse(Buffer.concat(chunks).toString()) as { data?: any; errors?: unknown[] };
              if (answer.errors?.length) reject(new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`));
              else resolve(answer.data);
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return { gql, close: () => agent.destroy() };
}
