import { useEffect, useRef } from 'preact/hooks';

/**
 * A draw function called at most once per animation frame however often it is asked for (live
 * changes, pointer moves, brushing): `schedule()` coalesces requests until the next frame.
 */
export function useFrameDraw(draw: () => void): () => void {
  const latest = useRef(draw);
  latest.current = draw;
  const pending = useRef(0);
  useEffect(() => () => cancelAnimationFrame(pending.current), []);
  const schedule = useRef(() => {
    if (pending.current) return;
    pending.current = requestAnimationFrame(() => {
      pending.current = 0;
      latest.current();
    });
  });
  return schedule.current;
}

/** A click that was not the end of a drag (a zoom or a brush): the pointer moved less than 4 pixels. */
export function onPlainClick(element: HTMLElement, handler: (event: MouseEvent) => void): () => void {
  let down: { x: number; y: number } | null = null;
  const press = (event: MouseEvent) => (down = { x: event.clientX, y: event.clientY });
  const click = (event: MouseEvent) => {
    if (down && Math.hypot(event.clientX - down.x, event.clientY - down.y) < 4) handler(event);
    down = null;
  };
  element.addEventListener('mousedown', press);
  element.addEventListener('click', click);
  return () => {
    element.removeEventListener('mousedown', press);
    element.removeEventListener('click', click);
  };
}
