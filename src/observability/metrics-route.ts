/**
 * `GET /metrics`: the Prometheus text format, this server's metrics and the
 * Node process's. It sits behind the same key check as the API (preauth.ts):
 * when keys are required, a scrape needs `Authorization: Bearer <any valid
 * key>` (a VIEWER key is enough); an open server serves loopback only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { processMetrics, type TrialogMetrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const pathOf = (url: string | undefined) => {
  const end = url?.search(/[?#]/) ?? -1;
  return end === -1 ? url : url!.slice(0, end);
};

export function serveMetrics(metrics: TrialogMetrics, next: Handler): Handler {
  return (req, res) => {
    if (pathOf(req.url) !== METRICS_PATH) return next(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${req.method} is not served here: ${METRICS_PATH} answers GET and HEAD only\n`);
      return;
    }
    Promise.all([processMetrics().metrics(), metrics.registry.metrics()]).then(
      ([process, server]) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : `${process}\n${server}`);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`metrics could not be collected: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  };
}
