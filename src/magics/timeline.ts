/**
 * %%timeline: runs the cell with tracing on and shows where its parallel time went: every pool
 * task (worker, queued, start, end, the time its batch spent travelling) and every prange
 * chunk (per thread, and the wait at the loop's barrier), as one Gantt chart and a summary
 * table. `--out NAME` binds the records (a Timeline) for the notebook's own analysis.
 */
import { plotly } from '../display/plotly.js';
import { table } from '../display/table.js';
import { startTrace } from '../trace/recorder.js';
import { Timeline } from '../trace/timeline.js';
import { UsageError, type MagicContext, type MagicSpec } from './types.js';

export const timelineCell: MagicSpec = {
  name: 'timeline',
  kind: 'cell',
  bodyHolds: 'the code to trace (e.g. await pool.map(f, xs))',
  description:
    "Run the cell and draw what its parallel work did: one row per pool worker or %%parallel thread, a bar per task or chunk " +
    '(orange: the batch travelling to and from its worker), gaps where the row was idle. A table gives per row the busy and ' +
    'idle share of the wall time and the tasks or chunks it ran; below it, the wall time, the summed busy time, the parallel ' +
    'efficiency (busy / (wall × rows)) and the overhead (wall time in which no row worked). Tracing is off outside %%timeline.',
  examples: ['%%timeline\nawait pool.map(brew, cups)', '%%timeline --out tl\nintegrateExp(0, 1, 1e-8)', 'tl.records.filter((r) => r.kind === "task").length'],
  args: [
    { kind: 'option', name: 'out', type: 'string', metavar: 'NAME', help: 'bind the records (a Timeline: records, start, end, summary) to NAME.' },
    { kind: 'option', name: 'title', type: 'string', metavar: 'TEXT', help: 'the figure title (default: Timeline).' },
  ],
  handler: runTimeline,
};

async function runTimeline(ctx: MagicContext): Promise<unknown> {
  const out = ctx.args.out === undefined ? undefined : String(ctx.args.out);
  if (out !== undefined && !/^[A-Za-z_$][\w$]*$/.test(out)) throw new UsageError(`%%timeline: --out ${out} is not a variable name; use a name such as --out tl`);
  const trace = startTrace();
  let value: unknown;
  try {
    value = await ctx.execute(ctx.body, { lineOffset: ctx.bodyLine - 1 });
  } finally {
    const recorder = trace.stop();
    const timeline = new Timeline(recorder.records, recorder.startedAt, recorder.stoppedAt!);
    if (out) ctx.setVariable(out, timeline, 'import("tslab-parallel").Timeline');
    show(ctx, timeline, ctx.args.title === undefined ? 'Timeline' : String(ctx.args.title));
  }
  return value;
}

function show(ctx: MagicContext, timeline: Timeline, title: string): void {
  if (timeline.summary.rows.length === 0) {
    ctx.stderr('%%timeline: the cell ran no pool tasks and no prange loops, so there is nothing to draw (call pool.map or a %%parallel function in it)\n');
    return;
  }
  ctx.display(plotly(timeline.figure(title)));
  ctx.display(table(timeline.tableRows(), { caption: timeline.describe() }));
}
