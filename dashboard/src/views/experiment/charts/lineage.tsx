import { Component } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatNumber } from '../../../logic/axis-scale';
import { changedSlots } from '../../../logic/changed-slots';
import {
  DiffCache,
  hyperparameterDiff,
  layoutMayDiffer,
  lineageLayout,
  type Change,
  type LineageLayout,
} from '../../../logic/lineage-layout';
import { request } from '../../../lib/graphql';
import { param, setParams } from '../../../lib/route';
import type { Trial } from '../trial';
import { rampBucket, rampColor } from './colors';
import type { Objective } from './objective';
import './charts.css';

const COLUMN = 110;
const ROW = 26;
const PAD = { left: 30, top: 28 };
/** Nodes are drawn this far (pixels) beyond the visible part of the tree, so a scroll shows no gap. */
const OVERSCAN = 300;

/**
 * Population based training as a tree: one column per generation, each trial linked to the parent
 * it copied (its weights, and after an exploit its hyperparameters). A member continuing itself
 * stays on its row; an edge that jumps rows is an exploit of another member. A node's title tells which parent it copied and what explore changed
 * (the diff of the two trials' hyperparameters); selecting it (kept in the URL as `?lineage=`) shows
 * that and can load the decision the scheduler recorded in the job's first event. `objective`
 * (optional) orients the colours so the brightest node is the best.
 *
 * Live changes cost what changed: the layout is kept while no trial moved in it (most changes are a
 * status or an objective), diffs are remembered per trial object (trials are compared by identity,
 * so the page must replace a changed trial with a new object), edges are two paths, and only the
 * nodes in (and near) the scrolled view are elements, each re-rendered only when its trial changed.
 */
export function Lineage({ trials, objective }: { trials: readonly Trial[]; objective?: Objective }) {
  const diffs = useRef(new DiffCache()).current;
  const laid = useRef<{ trials: readonly Trial[]; layout: LineageLayout } | null>(null);
  const layout = useMemo(() => {
    const before = laid.current;
    const keep = before && !layoutMayDiffer(before.trials, trials, changedSlots(before.trials, trials, 256));
    const next = keep ? before.layout : lineageLayout(trials, diffs.of);
    laid.current = { trials, layout: next };
    return next;
  }, [trials]);
  const byId = useMemo(() => new Map(trials.map((t) => [t.id, t])), [trials]);
  const direction = objective?.direction ?? 'MAXIMIZE';
  const colour = useMemo(() => objectiveColours(trials, direction), [trials, direction]);
  const firstGeneration = useMemo(() => trials.reduce((m, t) => Math.min(m, t.generation), Infinity), [trials]);
  const selectedId = param('lineage');
  const edges = useMemo(() => edgePaths(layout), [layout]);

  // The scrolled view, followed once per frame.
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ left: 0, top: 0, width: 1200, height: 560 });
  const frame = useRef(0);
  const follow = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const element = scroller.current;
      if (element)
        setView({
          left: element.scrollLeft,
          top: element.scrollTop,
          width: element.clientWidth || 1200,
          height: element.clientHeight || 560,
        });
    });
  };
  useEffect(() => {
    follow();
    window.addEventListener('resize', follow);
    return () => {
      window.removeEventListener('resize', follow);
      cancelAnimationFrame(frame.current);
    };
  }, []);

  if (layout.nodes.length === 0) return <p class="muted">No trials yet.</p>;
  if (layout.edges.length === 0 && layout.columns <= 1)
    return (
      <p class="muted">No lineage: these trials have no parents (lineage is drawn for population based training).</p>
    );
  const width = PAD.left * 2 + Math.max(0, layout.columns - 1) * COLUMN;
  const height = PAD.top + layout.rows * ROW;
  const selected = selectedId ? byId.get(selectedId) : undefined;
  const inView = (x: number, y: number) =>
    x >= view.left - OVERSCAN &&
    x <= view.left + view.width + OVERSCAN &&
    y >= view.top - OVERSCAN &&
    y <= view.top + view.height + OVERSCAN;

  return (
    <figure class="experiment-chart lineage">
      <div class="lineage-scroll" ref={scroller} onScroll={follow}>
        <svg class="lineage-tree" width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
          {Array.from({ length: layout.columns }, (_, c) => (
            <text key={c} class="lineage-generation" x={PAD.left + c * COLUMN} y={12}>
              gen {c + firstGeneration}
            </text>
          ))}
          <g class="lineage-edges">
            <path class="lineage-continue" d={edges.continuing} />
            <path class="lineage-exploit" d={edges.exploiting} />
          </g>
          <g>
            {layout.nodes.map((node) => {
              const { x, y } = nodePosition(node);
              if (!inView(x, y)) return null;
              const trial = byId.get(node.id)!;
              const parent = node.parentId ? byId.get(node.parentId) : undefined;
              return (
                <LineageNode
                  key={node.id}
                  trial={trial}
                  parent={parent}
                  changes={parent ? diffs.of(parent, trial) : NO_CHANGES}
                  x={x}
                  y={y}
                  colour={colour.get(node.id) ?? 'var(--muted)'}
                  selected={node.id === selectedId}
                />
              );
            })}
          </g>
        </svg>
      </div>
      <figcaption class="chart-caption">
        {selected ? (
          <Decision
            key={selected.id}
            trial={selected}
            parent={selected.parentId ? byId.get(selected.parentId) : undefined}
          />
        ) : (
          <span class="muted">
            Colour: objective ({objective ? 'brighter is better' : 'brighter is higher'}). A level edge: a member
            continuing itself; an edge that changes rows: an exploit of another member; a ring: explore changed
            hyperparameters. Click a trial for its decision.
          </span>
        )}
      </figcaption>
    </figure>
  );
}

const NO_CHANGES: Change[] = [];

function nodePosition(node: { column: number; row: number }): { x: number; y: number } {
  return { x: PAD.left + node.column * COLUMN, y: PAD.top + node.row * ROW };
}

/** Every edge in two paths (continuations and exploits): two elements however large the tree. */
function edgePaths(layout: LineageLayout): { continuing: string; exploiting: string } {
  const where = new Map(layout.nodes.map((n) => [n.id, nodePosition(n)]));
  let continuing = '';
  let exploiting = '';
  for (const { from, to } of layout.edges) {
    const a = where.get(from)!;
    const b = where.get(to)!;
    const mid = (a.x + b.x) / 2;
    const d = `M${a.x},${a.y}C${mid},${a.y} ${mid},${b.y} ${b.x},${b.y}`;
    if (a.y !== b.y) exploiting += d;
    else continuing += d;
  }
  return { continuing, exploiting };
}

interface NodeProps {
  trial: Trial;
  parent: Trial | undefined;
  changes: Change[];
  x: number;
  y: number;
  colour: string;
  selected: boolean;
}

/** One trial's node: rendered again only when one of its props changed (its trial is a new object, its colour…). */
class LineageNode extends Component<NodeProps> {
  override shouldComponentUpdate(next: NodeProps): boolean {
    const now = this.props;
    return (
      next.trial !== now.trial ||
      next.parent !== now.parent ||
      next.changes !== now.changes ||
      next.x !== now.x ||
      next.y !== now.y ||
      next.colour !== now.colour ||
      next.selected !== now.selected
    );
  }

  private readonly select = () => {
    const id = this.props.trial.id;
    setParams({ lineage: id === param('lineage') ? null : id });
  };

  override render({ trial, parent, changes, x, y, colour, selected }: NodeProps) {
    return (
      <g
        class={`lineage-node${selected ? ' lineage-selected' : ''}${changes.length ? ' lineage-explored' : ''}`}
        onClick={this.select}
      >
        <title>{describe(trial, parent, changes)}</title>
        <circle cx={x} cy={y} r={7} fill={colour} />
        {changes.length ? <circle class="lineage-ring" cx={x} cy={y} r={10} /> : null}
      </g>
    );
  }
}

function objectiveColours(trials: readonly Trial[], direction: 'MINIMIZE' | 'MAXIMIZE'): Map<string, string> {
  const values = trials.flatMap((t) =>
    t.objectiveValue !== null && Number.isFinite(t.objectiveValue) ? [t.objectiveValue] : [],
  );
  const min = Math.min(...values);
  const max = Math.max(...values);
  const colours = new Map<string, string>();
  for (const t of trials) {
    if (t.objectiveValue === null || !Number.isFinite(t.objectiveValue)) continue;
    const at = max > min ? (t.objectiveValue - min) / (max - min) : 0.5;
    colours.set(t.id, rampColor(rampBucket(direction === 'MAXIMIZE' ? at : 1 - at)));
  }
  return colours;
}

function describeChange(c: Change): string {
  const show = (v: unknown) => (typeof v === 'number' ? formatNumber(v) : JSON.stringify(v));
  switch (c.kind) {
    case 'scaled':
      return `${c.name} ${show(c.from)} → ${show(c.to)} (×${formatNumber(c.factor)})`;
    case 'changed':
      return `${c.name} ${show(c.from)} → ${show(c.to)} (resampled)`;
    case 'added':
      return `${c.name} set to ${show(c.to)}`;
    case 'removed':
      return `${c.name} removed (was ${show(c.from)})`;
  }
}

function describe(trial: Trial, parent: Trial | undefined, changes: Change[]): string {
  const head = `trial #${trial.index} (${trial.status.toLowerCase()})${trial.objectiveValue !== null ? `, objective ${formatNumber(trial.objectiveValue)}` : ''}`;
  if (!parent) return `${head}\nfirst generation`;
  const copied = `copied trial #${parent.index}${parent.objectiveValue !== null ? ` (objective ${formatNumber(parent.objectiveValue)})` : ''}`;
  return [head, copied, ...(changes.length ? changes.map(describeChange) : ['hyperparameters kept'])].join('\n');
}

interface RecordedDecision {
  member?: number;
  generation?: number;
  exploitedFrom?: number | null;
  explored?: Record<string, unknown>;
}

const CREATED = `query TrialDecision($id: ID!) { job(id: $id) { history(first: 1) { edges { node { type data } } } } }`;

function Decision({ trial, parent }: { trial: Trial; parent: Trial | undefined }) {
  const changes = parent ? hyperparameterDiff(parent.hyperparameters, trial.hyperparameters) : [];
  const [recorded, setRecorded] = useState<
    { state: 'idle' | 'loading' | 'none' | 'error'; message?: string } | { state: 'loaded'; decision: RecordedDecision }
  >({ state: 'idle' });
  const load = async () => {
    setRecorded({ state: 'loading' });
    try {
      const data = await request<{
        job: { history: { edges: { node: { type: string; data: { decision?: RecordedDecision | null } } }[] } } | null;
      }>(CREATED, { id: trial.id });
      const created = data.job?.history.edges[0]?.node;
      const decision = created?.type === 'JobCreated' ? created.data.decision : null;
      setRecorded(decision ? { state: 'loaded', decision } : { state: 'none' });
    } catch (error) {
      setRecorded({ state: 'error', message: (error as Error).message });
    }
  };
  return (
    <div class="lineage-decision">
      <div>
        <a href={`/jobs/${encodeURIComponent(trial.id)}`}>trial #{trial.index}</a>{' '}
        <span class={`status status-${trial.status}`}>{trial.status}</span> generation {trial.generation}
        {trial.objectiveValue !== null ? <> · objective {formatNumber(trial.objectiveValue)}</> : null}
      </div>
      {parent ? (
        <div>
          copied <a href={`/jobs/${encodeURIComponent(parent.id)}`}>trial #{parent.index}</a>
          {parent.objectiveValue !== null ? <> (objective {formatNumber(parent.objectiveValue)})</> : null}
          {changes.length ? (
            <ul>
              {changes.map((c) => (
                <li key={c.name}>{describeChange(c)}</li>
              ))}
            </ul>
          ) : (
            <> · hyperparameters kept</>
          )}
        </div>
      ) : (
        <div class="muted">first generation{trial.parentId ? ' (parent not loaded)' : ''}</div>
      )}
      {recorded.state === 'idle' ? (
        <button type="button" onClick={() => void load()}>
          Load the recorded decision
        </button>
      ) : recorded.state === 'loading' ? (
        <span class="muted">loading…</span>
      ) : recorded.state === 'loaded' ? (
        <div class="mono">{recordedText(recorded.decision)}</div>
      ) : recorded.state === 'none' ? (
        <span class="muted">The job's history records no decision.</span>
      ) : (
        <span class="error">{recorded.message}</span>
      )}
    </div>
  );
}

function recordedText(d: RecordedDecision): string {
  const exploit =
    d.exploitedFrom === null || d.exploitedFrom === undefined
      ? 'kept its own weights (no exploit)'
      : `exploited member ${d.exploitedFrom}`;
  const explored = Object.entries(d.explored ?? {}).map(([name, how]) => `${name}: ${JSON.stringify(how)}`);
  return `member ${d.member ?? '?'}, generation ${d.generation ?? '?'}: ${exploit}${explored.length ? `; explored ${explored.join(', ')}` : ''}`;
}
