import { options } from 'preact';

// At most one render per animation frame, however many changes arrive: Preact queues component
// renders and this flushes the queue on the next frame instead of the next microtask.
export function renderOncePerFrame(): void {
  options.debounceRendering = (flush) => requestAnimationFrame(() => flush());
}

/**
 * Collects items arriving from a live feed and hands them over in one batch per animation frame,
 * so 100 changes a second cost one state update (and one render) per frame, not 100.
 */
export function frameQueue<T>(flush: (items: T[]) => void): { push(item: T): void; cancel(): void } {
  let pending: T[] = [];
  let scheduled = false;
  let cancelled = false;
  const run = () => {
    scheduled = false;
    if (cancelled) return;
    const items = pending;
    pending = [];
    flush(items);
  };
  return {
    push(item) {
      if (cancelled) return;
      pending.push(item);
      if (scheduled) return;
      scheduled = true;
      // A hidden tab gets no animation frames: flush on a timer there so the queue cannot grow for hours.
      if (document.hidden) setTimeout(run, 500);
      else requestAnimationFrame(run);
    },
    cancel() {
      cancelled = true;
      pending = [];
    },
  };
}
