/**
 * %%mpirun -np 1,2,4 --scaling: the cell at each rank count (1 always included, the baseline),
 * timed on the ranks themselves — from a barrier at the start to each rank's end, the slowest
 * rank counting — so that starting the ranks is not part of it; then the %scaling table and
 * figure (speed-up, ideal, Amdahl fit, the machine's bare-thread ceiling) for ranks.
 */
import { plotly } from '../display/plotly.js';
import { table } from '../display/table.js';
import { machineCeiling } from '../trace/ceiling.js';
import { ScalingResult } from '../trace/scaling.js';
import { secondsIn } from './format-time.js';
import { UsageError, type MagicContext } from './types.js';

const kElapsed = '__tspElapsed';
const kMaxRanks = 256;

/** `-np 4` → [4]; `-np 1,2,4` → [1, 2, 4] (sorted, unique). */
export function parseRankCounts(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  const counts = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
  if (counts.some((n) => !(n >= 1 && n <= kMaxRanks))) {
    throw new UsageError(`%%mpirun: -np ${text} must be a number of ranks from 1 to ${kMaxRanks}, or with --scaling a list of them (e.g. -np 1,2,4 --scaling)`);
  }
  return [...new Set(counts)].sort((a, b) => a - b);
}

/** The rank code, timed from a barrier on the line in front of the cell's first line. */
export function timedRankSource(body: string, outNames: readonly string[]): string {
  const start = `await comm.barrier(); const ${kElapsed}0 = performance.now();`;
  return `${start}\n${body}\nreturn { ${[...outNames, `${kElapsed}: (performance.now() - ${kElapsed}0) / 1000`].join(', ')} };`;
}

type RankValues = (Record<string, unknown> | undefined)[];

/** Runs the cell at each count (`run(np)`), shows the scaling figure and table; returns the last run's values. */
export async function runRankScaling(ctx: MagicContext, counts: readonly number[], repeat: number, run: (np: number) => Promise<RankValues>): Promise<RankValues> {
  const all = [...new Set([1, ...counts])].sort((a, b) => a - b);
  const timings = new Map<number, number[]>(all.map((n) => [n, []]));
  let last: RankValues = [];
  for (let r = 0; r < repeat && !ctx.signal.aborted; r++) {
    for (const np of all) {
      last = await run(np);
      timings.get(np)!.push(Math.max(...last.map((v) => Number(v?.[kElapsed] ?? 0))));
    }
  }
  for (const v of last) if (v) delete v[kElapsed];
  const result = new ScalingResult(timings, machineCeiling(all), 'ranks');
  ctx.display(plotly(result.figure('Scaling with the number of ranks')));
  ctx.display(table(result.tableRows(secondsIn(result.rows[0]!.seconds)), { caption: result.describe() }));
  ctx.stdout(`${result.describe()}\n`);
  return last;
}
