import { signal } from '@preact/signals';

// The API key a person typed. Kept in sessionStorage only (gone when the tab closes), never in
// the URL, localStorage or a log line: a key is a password.
const STORAGE_NAME = 'trialog.apiKey';

function stored(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_NAME);
  } catch {
    return null; // storage disabled: the key lives in memory for this page only
  }
}

export const apiKey = signal<string | null>(stored());
/** Bumped whenever the key changes: views remount on it, so what a refused key could not read is read again. */
export const keyGeneration = signal(0);

export function setApiKey(key: string | null): void {
  const trimmed = key?.trim() || null;
  apiKey.value = trimmed;
  keyGeneration.value += 1;
  try {
    if (trimmed) sessionStorage.setItem(STORAGE_NAME, trimmed);
    else sessionStorage.removeItem(STORAGE_NAME);
  } catch {
    /* memory only */
  }
}

export function authorizationHeader(): Record<string, string> {
  return apiKey.value ? { authorization: `Bearer ${apiKey.value}` } : {};
}
