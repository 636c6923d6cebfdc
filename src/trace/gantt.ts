/**
 * A trace as a plotly Gantt chart: one row per worker, thread or rank, a horizontal bar per
 * interval (work in one colour per kind, waiting and transfers in others), its label on the
 * bar and on hover; gaps are idle time. Times are shown in ms from the start of the trace.
 */
import type { PlotlyFigure } from '../display/plotly.js';
import type { TraceKind, TraceRecord } from './records.js';
import { rowOrder } from './summary.js';

/** Above this many bars, a pool's tasks are drawn one bar per batch (the records keep every task). */
const kMaxBars = 4000;

interface Style {
  readonly name: string;
  readonly color: string;
}

const kStyles: Partial<Record<TraceKind | 'wait' | 'unwaited', Style>> = {
  task: { name: 'task', color: '#1f77b4' },
  chunk: { name: 'chunk', color: '#2ca02c' },
  transfer: { name: 'shipping data', color: '#ff7f0e' },
  compute: { name: 'compute', color: '#2ca02c' },
  wait: { name: 'waiting in communication', color: '#d62728' },
  unwaited: { name: 'receive never waited for', color: '#8c564b' },
};

export interface GanttOptions {
  readonly title: string;
  /** Trace time of the chart's 0. */
  readonly origin: number;
  /** What the rows are ('worker or thread', 'rank'): the y axis title. */
  readonly rowTitle?: string;
  /** Extra traces drawn over the bars (message lines). */
  readonly overlays?: readonly Record<string, unknown>[];
}

/** Which legend group a record is drawn in; undefined: not drawn (idle is a gap). */
export function styleKey(r: TraceRecord): keyof typeof kStyles | undefined {
  switch (r.kind) {
    case 'idle':
    case 'loop':
      return undefined;
    case 'comm':
      // Posting a send or receive takes no time: messages are drawn as lines (comm-timeline.ts).
      if (r.unwaited) return 'unwaited';
      return r.call === 'wait' ? 'wait' : undefined;
    default:
      return r.kind;
  }
}

export function ganttFigure(records: readonly TraceRecord[], options: GanttOptions): PlotlyFigure {
  const merged = records.length > kMaxBars ? mergeBatches(records) : records;
  // Still too many to draw quickly (a long MPI run): the earliest ones, and the title says so.
  const drawable = merged.filter((r) => styleKey(r) !== undefined);
  const cut = drawable.length > kMaxBars;
  const drawn = cut ? [...drawable].sort((a, b) => a.start - b.start).slice(0, kMaxBars) : merged;
  const groups = new Map<keyof typeof kStyles, TraceRecord[]>();
  for (const r of drawn) {
    const key = styleKey(r);
    if (!key) continue;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const rows = rowOrder(drawn.map((r) => r.row).filter((r) => r !== 'loops'));
  const ms = (t: number) => t - options.origin;
  const data = [...groups].map(([key, rs]) => {
    const style = kStyles[key]!;
    return {
      type: 'bar',
      orientation: 'h',
      name: style.name,
      y: rs.map((r) => r.row),
      base: rs.map((r) => ms(r.start)),
      x: rs.map((r) => Math.max(r.end - r.start, 1e-3)),
      text: rs.map((r) => r.label),
      hovertext: rs.map((r) => `${r.label}<br>${ms(r.start).toFixed(3)} → ${ms(r.end).toFixed(3)} ms (${(r.end - r.start).toFixed(3)} ms)${r.kind === 'task' ? `<br>queued ${(r.start - r.queued).toFixed(3)} ms before it ran` : ''}`),
      hoverinfo: 'text',
      textposition: 'inside',
      insidetextanchor: 'middle',
      constraintext: 'both',
      marker: { color: style.color, line: { color: 'white', width: 0.5 } },
    };
  });
  return {
    data: [...data, ...(options.overlays ?? [])],
    layout: {
      title: { text: cut ? `${options.title} (the first ${kMaxBars} of ${drawable.length} intervals)` : options.title },
      barmode: 'overlay',
      height: Math.max(260, 90 + 40 * rows.length),
      xaxis: { title: { text: 'time (ms)' }, zeroline: false },
      yaxis: { type: 'category', categoryorder: 'array', categoryarray: [...rows].reverse(), automargin: true, ...(options.rowTitle ? { title: { text: options.rowTitle } } : {}) },
      legend: { orientation: 'h', y: -0.25 },
      margin: { t: 50, r: 20 },
    },
  };
}

/** Tasks of one batch as one bar, so a map of 10,000 small tasks draws quickly. */
function mergeBatches(records: readonly TraceRecord[]): TraceRecord[] {
  const out: TraceRecord[] = [];
  const batches = new Map<string, { first: TraceRecord & { kind: 'task' }; last: TraceRecord & { kind: 'task' }; n: number }>();
  for (const r of records) {
    if (r.kind !== 'task') {
      out.push(r);
      continue;
    }
    const key = `${r.row}:${r.batch}`;
    const b = batches.get(key);
    if (b) {
      b.last = r;
      b.n++;
    } else batches.set(key, { first: r, last: r, n: 1 });
  }
  for (const { first, last, n } of batches.values()) {
    out.push({ ...first, end: last.end, label: n === 1 ? first.label : `${first.method} #${first.index}…#${last.index} (${n} tasks)` });
  }
  return out;
}
