import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartProps {
  /** uPlot options without width (the chart takes its container's width). */
  options: Omit<uPlot.Options, 'width'>;
  /** Columns: x first, then one array per series (null for gaps). */
  data: uPlot.AlignedData;
  /** Called after each redraw, with the chart (to draw markers, read the zoom…). */
  onReady?: (chart: uPlot) => void;
}

/**
 * A uPlot chart. New data keeps the person's zoom (`setData(data, false)` leaves the scales
 * alone once they zoomed); options changes rebuild it. uPlot paints columns of numbers on a canvas:
 * hundreds of thousands of points in a few hundred milliseconds.
 */
export function Chart({ options, data, onReady }: ChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const zoomed = useRef(false);

  useEffect(() => {
    const element = container.current!;
    const plot = new uPlot(
      {
        ...options,
        width: element.clientWidth || 600,
        hooks: {
          ...options.hooks,
          setSelect: [
            ...(options.hooks?.setSelect ?? []),
            (u) => {
              if (u.select.width > 0) zoomed.current = true;
            },
          ],
        },
      },
      data,
      element,
    );
    chart.current = plot;
    onReady?.(plot);
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: element.clientWidth || 600, height: options.height }),
    );
    resize.observe(element);
    // Double-click resets uPlot's zoom: from then on new data rescales again.
    const unzoom = () => (zoomed.current = false);
    element.addEventListener('dblclick', unzoom);
    return () => {
      resize.disconnect();
      element.removeEventListener('dblclick', unzoom);
      plot.destroy();
      chart.current = null;
    };
  }, [options]);

  useEffect(() => {
    const plot = chart.current;
    if (!plot) return;
    plot.setData(data, !zoomed.current);
    onReady?.(plot);
  }, [data]);

  return <div class="chart" ref={container} />;
}
