// Times on the job page: how long something took, and how long until a lease runs out.

/** "850 ms", "42 s", "3 m 05 s", "2 h 04 m", "3 d 2 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  const seconds = Math.floor(abs / 1000);
  if (seconds < 60) return `${sign}${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${sign}${minutes} m ${String(seconds % 60).padStart(2, '0')} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${sign}${hours} h ${String(minutes % 60).padStart(2, '0')} m`;
  return `${sign}${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Between two ISO times (the second defaulting to now), or null when the first is missing. */
export function durationBetween(
  from: string | null | undefined,
  to: string | null | undefined,
  now: number,
): number | null {
  if (!from) return null;
  const start = Date.parse(from);
  const end = to ? Date.parse(to) : now;
  return Number.isNaN(start) || Number.isNaN(end) ? null : end - start;
}

/** "expires in 42 s", or "expired 3 s ago" once past. */
export function leaseCountdown(expiresAt: string, now: number): string {
  const left = Date.parse(expiresAt) - now;
  if (Number.isNaN(left)) return '';
  return left >= 0 ? `expires in ${formatDuration(left)}` : `expired ${formatDuration(-left)} ago`;
}
