/**
 * Under `npm start`, the server's parent is npm (or the shell npm runs the
 * script with). npm 11, sent SIGTERM, passes it to that shell, which dies
 * without passing it on: measured here, a server started as `npm start`
 * (script `node …`) was left running and listening, its parent now init.
 * (A script that `exec`s node gets the signal itself.)
 *
 * So when started by an npm script, a server whose parent goes away shuts
 * down as on SIGTERM. Only then: a server started some other way (nohup, a
 * supervisor, a container's init) may outlive its parent on purpose. Under
 * npm the parent only goes away because npm is being stopped.
 */
const CHECK_EVERY_MS = 500;

export function startedByNpmScript(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.npm_lifecycle_event === 'string' && env.npm_lifecycle_event !== '';
}

/** Calls `onGone` once, when this process is handed to another parent (its own has exited). */
export function whenParentGone(onGone: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, CHECK_EVERY_MS);
  timer.unref(); // never what keeps the process alive
}
