/**
 * The timeline's arithmetic and drawing on hand-made records: busy time is the union of a row's
 * intervals (never above the wall), efficiency and overhead follow, rows sort by number, and a
 * chart of very many intervals draws the first ones and says so.
 */
import { describe, expect, it } from 'vitest';
import { traceNow } from '../dist/src/trace/clock.js';
import { ganttFigure } from '../dist/src/trace/gantt.js';
import { ItemClock } from '../dist/src/trace/item-clock.js';
import type { ChunkRecord } from '../dist/src/trace/records.js';
import { rowOrder, summarise, unionLength } from '../dist/src/trace/summary.js';

const chunk = (thread: number, start: number, end: number): ChunkRecord => ({
  kind: 'chunk', row: `thread ${thread}`, thread, loop: 1, line: 1, lo: 0, hi: 1, chunks: 1, label: 'c', start, end,
});

describe('trace summaries', () => {
  it('counts overlapping work once and clips it to the span', () => {
    expect(unionLength([[0, 2], [1, 3], [5, 6]], 0, 10)).toBe(4);
    expect(unionLength([[-5, 2], [8, 20]], 0, 10)).toBe(4);
    expect(unionLength([], 0, 10)).toBe(0);
  });

  it('gives busy and idle per row, the efficiency and the overhead', () => {
    const s = summarise([chunk(0, 0, 8), chunk(0, 4, 6), chunk(1, 2, 4)], 0, 10);
    expect(s.rows.map((r) => [r.row, r.busyMs, r.idleMs, r.items])).toEqual([['thread 0', 8, 2, 2], ['thread 1', 2, 8, 1]]);
    expect(s.busyMs).toBe(10);
    expect(s.efficiency).toBe(0.5);
    expect(s.overheadMs).toBe(2); // 8 … 10: nobody worked
    for (const r of s.rows) expect(r.busyMs).toBeLessThanOrEqual(s.wallMs);
  });

  it('orders rows by kind, then number', () => {
    expect(rowOrder(['worker 10', 'thread 1', 'worker 2', 'thread 0'])).toEqual(['thread 0', 'thread 1', 'worker 2', 'worker 10']);
  });

  it('draws at most 4000 bars, the earliest, and says so in the title', () => {
    const many = Array.from({ length: 5000 }, (_, i) => chunk(i % 2, i, i + 0.5));
    const fig = ganttFigure(many, { title: 'Many', origin: 0 });
    expect(fig.data.reduce((n, t) => n + (t.x as number[]).length, 0)).toBe(4000);
    expect(Math.max(...fig.data.flatMap((t) => t.base as number[]))).toBe(3999);
    expect((fig.layout!.title as { text: string }).text).toBe('Many (the first 4000 of 5000 intervals)');
    expect((ganttFigure(many.slice(0, 10), { title: 'Few', origin: 0 }).layout!.title as { text: string }).text).toBe('Few');
  });
});

describe('the item clock of traced pool batches', () => {
  const spin = (ms: number) => {
    const until = traceNow() + ms;
    while (traceNow() < until);
  };

  it('gives every item that ran an end, in order, tiny items in evenly spread groups', () => {
    const clock = new ItemClock(1000);
    for (let i = 0; i < 700; i++) clock.ended();
    const { startedAt, itemEnds } = clock.finish();
    expect(itemEnds).toHaveLength(700);
    let last = startedAt;
    for (const end of itemEnds) {
      expect(end).toBeGreaterThanOrEqual(last);
      last = end;
    }
    expect(last).toBeLessThanOrEqual(traceNow());
  });

  it('reads the clock for each item that takes longer than a couple of microseconds', () => {
    const clock = new ItemClock(3);
    const marks: number[] = [];
    for (let i = 0; i < 3; i++) {
      spin(0.5);
      clock.ended();
      marks.push(traceNow());
    }
    const { itemEnds } = clock.finish();
    itemEnds.forEach((end, i) => {
      expect(end).toBeLessThanOrEqual(marks[i]!);
      expect(end).toBeGreaterThan(marks[i]! - 0.4); // read right at the item's end, not spread over others
    });
  });
});
