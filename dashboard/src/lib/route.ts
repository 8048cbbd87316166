import { computed, signal } from '@preact/signals';

// The view's whole state lives in the URL (path + query string), so a copied link opens the same
// view. Secrets never go here (see key.ts).
export const location$ = signal({ pathname: location.pathname, search: location.search });

export const searchParams = computed(() => new URLSearchParams(location$.value.search));

function sync(): void {
  location$.value = { pathname: location.pathname, search: location.search };
}

addEventListener('popstate', sync);

/** Go to another view (a new history entry). */
export function navigate(href: string): void {
  history.pushState(null, '', href);
  sync();
  scrollTo(0, 0);
}

/**
 * Change query parameters of the current view in place (no new history entry): a filter, a sort,
 * a tab. `null` or '' removes the parameter.
 */
export function setParams(changes: Record<string, string | number | null | undefined>): void {
  const params = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') params.delete(name);
    else params.set(name, String(value));
  }
  const search = params.toString();
  history.replaceState(null, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`);
  sync();
}

export function param(name: string): string | null {
  return searchParams.value.get(name);
}

/** Follow same-origin links without reloading the page (modified clicks keep the browser's behaviour). */
export function interceptLinks(root: HTMLElement): void {
  root.addEventListener('click', (event) => {
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    )
      return;
    const anchor = (event.target as Element).closest('a');
    if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith('/graphql')) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
