/**
 * Probes for an orchestrator: `GET /health` (liveness) and `GET /ready`
 * (readiness), answered before the perimeter and without a key.
 *
 * - `/health`: the process answers HTTP. It touches nothing else (no store,
 *   no read model), so a slow store never gets a live server restarted.
 * - `/ready`: whether this server should be sent traffic now: it is not
 *   shutting down, the store answers (its head position, read within
 *   `storeTimeoutMs`), the projection runner is running (not starting,
 *   failed or stopped), and the read models are at most `maxLagSeconds`
 *   behind the log. 200 when all hold, else 503; the body names each check.
 *
 * Why they skip the perimeter's Host and Origin rules: a kubelet or a load
 * balancer probes by address (Host: 10.1.2.3:4000), which an allow-list of
 * public names would refuse, and the probe would restart a healthy server.
 * What that exposes is harmless: GET and HEAD only, no body read, nothing
 * changed, and an answer that says only whether the server is up and ready,
 * its runner's state and its lag in seconds, never a position, a message of
 * the store's, a key or a name. No CORS headers are sent, so another web
 * page cannot read the answer; a DNS-rebound page could, and learns no more.
 *
 * Cheap by design: concurrent `/ready` probes share one read of the head, so
 * a store that hangs holds at most one read, however often it is probed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RunnerLag, RunnerState } from '../../projections/runner.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export const HEALTH_PATH = '/health';
export const READY_PATH = '/ready';

/** How long `/ready` waits for the store's head position before calling it unreachable. */
export const STORE_PROBE_TIMEOUT_MS = 2_000;

export interface ReadinessOptions {
  /** TRIALOG_READY_MAX_LAG_SECONDS: the read models may be this far behind the log and still be ready. */
  maxLagSeconds: number;
  storeTimeoutMs?: number;
}

interface Check {
  ok: boolean;
  reason?: string;
}

export interface Readiness {
  status: 'ready' | 'not ready';
  checks: {
    shutdown: Check;
    store: Check;
    projections: Check & { state: RunnerState };
    lag: Check & { behindSeconds?: number; maxSeconds: number };
  };
}

/** What the store and the runner answered: their lag, or why there is none. */
export type LagReading = { lag: RunnerLag } | { failed: 'timeout' | 'error'; state: RunnerState };

/** The verdict from what was read: pure, so every combination is easy to state. */
export function judgeReadiness(reading: LagReading, shuttingDown: boolean, options: ReadinessOptions): Readiness {
  const timeoutMs = options.storeTimeoutMs ?? STORE_PROBE_TIMEOUT_MS;
  const state = 'lag' in reading ? reading.lag.state : reading.state;
  const store: Check =
    'lag' in reading
      ? { ok: true }
      : {
          ok: false,
          reason: reading.failed === 'timeout' ? `no answer within ${timeoutMs} ms` : 'the store failed to answer',
        };
  const projections = state === 'running' ? { ok: true, state } : { ok: false, state, reason: RUNNER_REASONS[state] };
  const maxSeconds = options.maxLagSeconds;
  const lag =
    'lag' in reading
      ? {
          ok: reading.lag.behindSeconds <= maxSeconds,
          behindSeconds: Math.round(reading.lag.behindSeconds * 10) / 10,
          maxSeconds,
          ...(reading.lag.behindSeconds <= maxSeconds
            ? {}
            : { reason: `the read models are more than ${maxSeconds} s behind the log` }),
        }
      : { ok: false, maxSeconds, reason: 'unknown: the store did not answer' };
  const shutdown: Check = shuttingDown ? { ok: false, reason: 'the server is shutting down' } : { ok: true };
  const ready = shutdown.ok && store.ok && projections.ok && lag.ok;
  return { status: ready ? 'ready' : 'not ready', checks: { shutdown, store, projections, lag } };
}

const RUNNER_REASONS: Record<RunnerState, string> = {
  starting: 'the read models are catching up with the log after start',
  running: '',
  reconnecting: 'the read models lost the event store and are reconnecting (each retry is logged)',
  failed: 'the read models stopped on an error (logged); restart the server',
  stopped: 'the read models are stopped',
};

/** Reads the lag within the timeout; one read at a time, shared by every probe that asks meanwhile. */
export function lagReader(
  runner: { lag(): Promise<RunnerLag>; readonly state: RunnerState },
  timeoutMs = STORE_PROBE_TIMEOUT_MS,
) {
  let inFlight: Promise<LagReading> | undefined;
  const readOnce = async (): Promise<LagReading> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      const lag = await Promise.race([runner.lag(), timeout]);
      return lag === 'timeout' ? { failed: 'timeout', state: runner.state } : { lag };
    } catch {
      return { failed: 'error', state: runner.state };
    } finally {
      clearTimeout(timer);
    }
  };
  return (): Promise<LagReading> => {
    inFlight ??= readOnce().finally(() => (inFlight = undefined));
    return inFlight;
  };
}

export interface Probes {
  /** The readiness verdict now. */
  ready(): Promise<Readiness>;
  /** True once shutdown has begun: probes then ask for their connection to close. */
  shuttingDown(): boolean;
}

function answer(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, closing: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(closing ? { connection: 'close' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/** Answers `/health` and `/ready` (any query string); every other request goes on to `next`. */
export function serveProbes(probes: Probes, next: Handler): Handler {
  return (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== HEALTH_PATH && path !== READY_PATH) return next(req, res);
    req.resume(); // a body, if any, is drained unread
    const closing = probes.shuttingDown();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return answer(req, res, 405, { status: 'method not allowed' }, closing);
    }
    if (path === HEALTH_PATH) return answer(req, res, 200, { status: 'ok' }, closing);
    void probes.ready().then(
      (readiness) => answer(req, res, readiness.status === 'ready' ? 200 : 503, readiness, closing),
      () => answer(req, res, 503, { status: 'not ready' }, closing),
    );
  };
}
