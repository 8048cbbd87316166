import { effect, signal } from '@preact/signals';

export type Theme = 'light' | 'dark';

// A theme is not a secret: it survives the tab in localStorage, and follows the system until chosen.
const STORAGE_NAME = 'trialog.theme';

function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem(STORAGE_NAME);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    /* storage disabled */
  }
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export const theme = signal<Theme>(initialTheme());

effect(() => {
  document.documentElement.dataset.theme = theme.value;
});

export function toggleTheme(): void {
  theme.value = theme.value === 'dark' ? 'light' : 'dark';
  try {
    localStorage.setItem(STORAGE_NAME, theme.value);
  } catch {
    /* memory only */
  }
}
