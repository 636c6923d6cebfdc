/**
 * A scaling measurement: the best time at each thread (or rank) count, the speed-ups and
 * efficiencies, the Amdahl serial fraction fitted to them, and the machine's ceiling. What
 * %scaling and %%mpirun --scaling bind and draw.
 */
import { inspect } from 'node:util';
import type { PlotlyFigure } from '../display/plotly.js';
import type { Row } from '../display/table.js';
import { kNoResult } from '../display/types.js';
import { amdahlSpeedup, fitSerialFraction } from './amdahl.js';

export interface ScalingRow {
  readonly threads: number;
  /** Best of the runs, seconds. */
  readonly seconds: number;
  readonly speedup: number;
  /** speedup / threads. */
  readonly efficiency: number;
  /** The machine's speed-up on as many bare threads (undefined when not measured). */
  readonly ceiling?: number;
}

export class ScalingResult {
  /** Shown by the magic itself: a cell ending with `%scaling …` does not echo it again. */
  readonly [kNoResult] = true as const;
  readonly rows: readonly ScalingRow[];
  /** Fitted f of 1/S = f + (1 - f)/n. */
  readonly serialFraction: number;

  constructor(
    /** Each count's run times in seconds (all runs). */
    readonly timings: ReadonlyMap<number, readonly number[]>,
    ceiling: ReadonlyMap<number, number> | undefined,
    /** 'threads' for %scaling, 'ranks' for %%mpirun --scaling. */
    readonly unit: 'threads' | 'ranks' = 'threads',
  ) {
    const counts = [...timings.keys()].sort((a, b) => a - b);
    const best = (n: number) => Math.min(...timings.get(n)!);
    if (counts[0] !== 1) throw new RangeError('a scaling measurement needs a run on 1 thread, the baseline of its speed-ups');
    const base = best(1);
    this.rows = counts.map((n) => {
      const speedup = base / best(n);
      const c = ceiling?.get(n);
      return { threads: n, seconds: best(n), speedup, efficiency: speedup / n, ...(c === undefined ? {} : { ceiling: c }) };
    });
    this.serialFraction = fitSerialFraction(this.rows);
  }

  /** The speed-up Amdahl's law allows on any number of threads with this serial fraction. */
  get maxSpeedup(): number {
    return this.serialFraction > 0 ? 1 / this.serialFraction : Infinity;
  }

  describe(): string {
    const f = this.serialFraction;
    const limit = f > 0 ? `, so at most ${(1 / f).toFixed(1)}x on any number of ${this.unit}` : '';
    return `fitted serial fraction f = ${f.toFixed(3)} (Amdahl: 1/S = f + (1 - f)/n${limit})`;
  }

  tableRows(formatSeconds: (seconds: number) => string = (s) => `${s} s`): Row[] {
    return this.rows.map((r) => ({
      [this.unit]: r.threads,
      time: formatSeconds(r.seconds),
      'speed-up': `${r.speedup.toFixed(2)}x`,
      efficiency: `${(100 * r.efficiency).toFixed(0)}%`,
      ...(r.ceiling === undefined ? {} : { 'machine ceiling': `${r.ceiling.toFixed(2)}x` }),
    }));
  }

  figure(title = 'Scaling'): PlotlyFigure {
    const ns = this.rows.map((r) => r.threads);
    const most = Math.max(...ns);
    const grid = Array.from({ length: 50 }, (_, i) => 1 + ((most - 1) * i) / 49);
    const f = this.serialFraction;
    const ceiling = this.rows.filter((r) => r.ceiling !== undefined);
    return {
      data: [
        { type: 'scatter', mode: 'lines', name: 'ideal (n×)', x: [1, most], y: [1, most], line: { dash: 'dash', color: 'grey' } },
        { type: 'scatter', mode: 'lines', name: `Amdahl, f = ${f.toFixed(3)}`, x: grid, y: grid.map((n) => amdahlSpeedup(f, n)), line: { color: '#ff7f0e' } },
        ...(ceiling.length > 0
          ? [{ type: 'scatter', mode: 'lines+markers', name: 'this machine (bare threads)', x: ceiling.map((r) => r.threads), y: ceiling.map((r) => r.ceiling), line: { dash: 'dot', color: '#2ca02c' } }]
          : []),
        { type: 'scatter', mode: 'lines+markers', name: 'measured', x: ns, y: this.rows.map((r) => r.speedup), marker: { size: 9 }, line: { color: '#1f77b4' } },
      ],
      layout: {
        title: { text: title },
        xaxis: { title: { text: this.unit }, tickvals: ns },
        yaxis: { title: { text: 'speed-up' }, rangemode: 'tozero' },
        height: 420,
      },
    };
  }

  [inspect.custom](): string {
    return `ScalingResult: ${this.rows.map((r) => `${r.threads} → ${r.speedup.toFixed(2)}x`).join(', ')}; ${this.describe()}`;
  }
}
