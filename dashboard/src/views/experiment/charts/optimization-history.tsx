import { useMemo, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { Chart } from '../../../components/chart';
import { bestSoFar } from '../../../logic/best-so-far';
import { navigate } from '../../../lib/route';
import { theme } from '../../../lib/theme';
import type { Trial } from '../trial';
import { cssVar, STATUSES, STATUS_VARIABLE } from './colors';
import { onPlainClick } from './frame-draw';
import type { Objective } from './objective';
import './charts.css';

/**
 * The objective of every trial by creation order, one point series per status (so the legend
 * counts and toggles them), and the best value so far among finished trials as a step line.
 * Clicking a point opens its job. Zoom survives live updates (components/chart.tsx).
 */
export function OptimizationHistory({ trials, objective }: { trials: readonly Trial[]; objective: Objective }) {
  const ordered = useRef<Trial[]>([]);
  const data = useMemo(() => {
    const sorted = [...trials].sort((a, b) => a.index - b.index);
    ordered.current = sorted;
    const x = sorted.map((t) => t.index);
    const byStatus = STATUSES.map((status) => sorted.map((t) => (t.status === status ? t.objectiveValue : null)));
    const best = bestSoFar(
      sorted.map((t) => ({ objectiveValue: t.objectiveValue, counts: t.status === 'SUCCEEDED' })),
      objective?.direction ?? 'MINIMIZE',
    );
    return [x, ...byStatus, best] as uPlot.AlignedData;
  }, [trials, objective?.direction]);

  const themeName = theme.value;
  const options = useMemo((): Omit<uPlot.Options, 'width'> => {
    const text = cssVar('--fg-soft');
    const grid = cssVar('--border');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    return {
      height: 320,
      scales: { x: { time: false } },
      cursor: { drag: { x: true, y: true }, points: { size: 8 } },
      series: [
        { label: 'trial', value: (_u, v) => (v === null ? '' : `#${v}`) },
        ...STATUSES.map(
          (status): uPlot.Series => ({
            label: status.toLowerCase(),
            stroke: cssVar(STATUS_VARIABLE[status]),
            fill: cssVar(STATUS_VARIABLE[status]),
            paths: () => null,
            points: { show: true, size: 5, width: 0, fill: cssVar(STATUS_VARIABLE[status]) },
          }),
        ),
        {
          label: 'best so far',
          stroke: cssVar('--fg'),
          width: 2,
          spanGaps: true,
          paths: uPlot.paths.stepped!({ align: 1 }),
          points: { show: false },
        },
      ],
      axes: [
        { ...axis, label: 'trial' },
        { ...axis, label: objective?.metric ?? 'objective', size: 60 },
      ],
      hooks: {
        ready: [
          (u) =>
            onPlainClick(u.over, () => {
              const trial = u.cursor.idx != null ? ordered.current[u.cursor.idx] : undefined;
              if (trial && trial.objectiveValue !== null) navigate(`/jobs/${encodeURIComponent(trial.id)}`);
            }),
        ],
      },
    };
    // The theme is read through cssVar: a theme switch rebuilds the chart with its colours.
  }, [themeName, objective?.metric]);

  if (!objective) return <p class="muted">This experiment has no objective: there is no history to plot.</p>;
  return (
    <figure class="experiment-chart" title="Drag to zoom (double-click to reset); click a point to open its job">
      <Chart options={options} data={data} />
    </figure>
  );
}
