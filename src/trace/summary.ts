/**
 * What a trace adds up to, per row and overall: busy time (the union of a row's work, so it
 * never exceeds the wall time), idle time, work items; the summed busy time, the parallel
 * efficiency (busy / (wall × rows)) and the overhead: wall time in which no row was working.
 */
import { kBusyKinds, type TraceRecord } from './records.js';

export interface RowSummary {
  readonly row: string;
  readonly busyMs: number;
  readonly idleMs: number;
  /** 0…100 of the wall time. */
  readonly busyPct: number;
  readonly idlePct: number;
  /** Tasks, chunks or compute intervals. */
  readonly items: number;
}

export interface TraceSummary {
  readonly wallMs: number;
  readonly busyMs: number;
  /** busyMs / (wallMs × rows), 0…1. */
  readonly efficiency: number;
  /** Wall time during which no row was busy. */
  readonly overheadMs: number;
  readonly rows: readonly RowSummary[];
}

type Span = readonly [number, number];

/** Total length of the union of spans, clipped to [from, to]. */
export function unionLength(spans: readonly Span[], from: number, to: number): number {
  const sorted = spans.map(([a, b]): Span => [Math.max(a, from), Math.min(b, to)]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let [curA, curB] = [Number.NaN, Number.NaN];
  for (const [a, b] of sorted) {
    if (!(a <= curB)) {
      if (curB > curA) total += curB - curA;
      [curA, curB] = [a, b];
    } else curB = Math.max(curB, b);
  }
  if (curB > curA) total += curB - curA;
  return total;
}

/** Rows in the order they should be shown: by kind of row, then number (worker 2 before worker 10). */
export function rowOrder(rows: Iterable<string>): string[] {
  const key = (r: string) => {
    const m = /^(.*?)(\d+)$/.exec(r);
    return m ? [m[1]!, Number(m[2])] as const : [r, -1] as const;
  };
  return [...new Set(rows)].sort((a, b) => {
    const [ka, na] = key(a);
    const [kb, nb] = key(b);
    return ka === kb ? na - nb : ka.localeCompare(kb);
  });
}

export function summarise(records: readonly TraceRecord[], from: number, to: number): TraceSummary {
  const wallMs = Math.max(0, to - from);
  const busy = records.filter((r) => kBusyKinds.has(r.kind));
  const rows = rowOrder(busy.map((r) => r.row)).map((row): RowSummary => {
    const mine = busy.filter((r) => r.row === row);
    const busyMs = unionLength(mine.map((r) => [r.start, r.end]), from, to);
    const items = mine.reduce((n, r) => n + (r.kind === 'chunk' ? r.chunks : 1), 0);
    const pct = (x: number) => (wallMs > 0 ? (100 * x) / wallMs : 0);
    return { row, busyMs, idleMs: wallMs - busyMs, busyPct: pct(busyMs), idlePct: pct(wallMs - busyMs), items };
  });
  const busyMs = rows.reduce((s, r) => s + r.busyMs, 0);
  const anyBusy = unionLength(busy.map((r) => [r.start, r.end]), from, to);
  return {
    wallMs,
    busyMs,
    efficiency: wallMs > 0 && rows.length > 0 ? busyMs / (wallMs * rows.length) : 0,
    overheadMs: wallMs - anyBusy,
    rows,
  };
}
