/**
 * %%mpirun --timeline, the part that lives in the magic: the cell's rank code is wrapped so
 * that each rank traces its communication (src/trace/comm-rank.ts) and returns the trace with
 * its --out values; the kernel then aligns the ranks' traces and shows the Gantt chart with
 * message lines, the communication matrix and the per-rank table.
 */
import { plotly } from '../display/plotly.js';
import { table } from '../display/table.js';
import type { RankTrace } from '../trace/comm-rank.js';
import { CommTimeline } from '../trace/comm-timeline.js';
import type { MagicContext } from './types.js';

/** The name each rank's trace comes back under, beside the --out values. */
export const kTraceName = '__tspTrace';
const kTraceModule = 'tslab-parallel/dist/src/trace/comm-rank.js';

/**
 * The rank code: one line in front (so the cell's own lines keep their numbers when the line
 * offset is one less) starts the trace; the return after the last line hands it back.
 */
export function tracedRankSource(body: string, outNames: readonly string[]): string {
  // The trace module alone: loading the whole package in every rank would slow the ranks down.
  const start = `const ${kTraceName} = await (require("${kTraceModule}") as typeof import("${kTraceModule}")).traceRank(comm);`;
  return `${start}\n${body}\nreturn { ${[...outNames, `${kTraceName}: ${kTraceName}.stop()`].join(', ')} };`;
}

/** Takes the traces out of the ranks' values, shows them, binds the timeline to `out` if given. */
export function showRankTimeline(ctx: MagicContext, values: (Record<string, unknown> | undefined)[], out: string | undefined): void {
  const traces = values.map((v) => v?.[kTraceName] as RankTrace);
  for (const v of values) if (v) delete v[kTraceName];
  const timeline = new CommTimeline(traces);
  if (out) ctx.setVariable(out, timeline, 'import("tslab-parallel").CommTimeline');
  ctx.display(plotly(timeline.figure()));
  ctx.display(plotly(timeline.matrixFigure()));
  ctx.display(table(timeline.tableRows(), { caption: timeline.describe() }));
}
