/**
 * What %%timeline binds with --out: the records of a traced cell, its time span and summary,
 * with the figure and the table it displayed. Plain data, so a notebook can filter it
 * (`tl.records.filter((r) => r.kind === 'task')`) or export it (`JSON.stringify(tl.records)`).
 */
import type { PlotlyFigure } from '../display/plotly.js';
import type { Row } from '../display/table.js';
import { ganttFigure } from './gantt.js';
import type { TraceRecord } from './records.js';
import { summarise, type TraceSummary } from './summary.js';

export class Timeline {
  /**
   * The span the summary measures (trace clock, ms): from the first pool call or interval to the
   * end of the last interval, so compiling the cell and code around the parallel work do not count.
   */
  readonly from: number;
  readonly to: number;
  readonly summary: TraceSummary;

  constructor(
    readonly records: readonly TraceRecord[],
    /** Trace clock (ms) when recording started and stopped. */
    readonly start: number,
    readonly end: number,
  ) {
    let from = Infinity;
    let to = -Infinity;
    for (const r of records) {
      from = Math.min(from, r.start, r.kind === 'task' ? r.queued : Infinity);
      to = Math.max(to, r.end);
    }
    this.from = records.length > 0 ? from : start;
    this.to = records.length > 0 ? to : end;
    this.summary = summarise(records, this.from, this.to);
  }

  figure(title = 'Timeline'): PlotlyFigure {
    return ganttFigure(this.records, { title, origin: this.from, rowTitle: 'worker or thread' });
  }

  /** One row per worker or thread, then the totals. */
  tableRows(): Row[] {
    const s = this.summary;
    const ms = (x: number) => Number(x.toFixed(3));
    const pct = (x: number) => `${x.toFixed(1)}%`;
    return [
      ...s.rows.map((r) => ({ row: r.row, 'busy ms': ms(r.busyMs), 'busy %': pct(r.busyPct), 'idle %': pct(r.idlePct), 'tasks/chunks': r.items })),
      {
        row: 'all',
        'busy ms': ms(s.busyMs),
        'busy %': pct(100 * s.efficiency),
        'idle %': pct(100 - 100 * s.efficiency),
        'tasks/chunks': s.rows.reduce((n, r) => n + r.items, 0),
      },
    ];
  }

  /** The overall line under the table. */
  describe(): string {
    const s = this.summary;
    return (
      `wall ${s.wallMs.toFixed(3)} ms, summed busy ${s.busyMs.toFixed(3)} ms on ${s.rows.length} row(s), ` +
      `parallel efficiency ${(100 * s.efficiency).toFixed(1)}%, overhead (no one working) ${s.overheadMs.toFixed(3)} ms`
    );
  }
}
