/**
 * Side-by-side measurement against a peer (Numba, mpi4py, multiprocessing, tslab) in the same
 * run: the two sides are interleaved (ours, peer, ours, peer … for every round), so that load on
 * a shared machine hits both alike, and each comparison keeps both sides' samples, best and
 * median, and the ratio. Every benchmark reports through this module, so bench/report.ts can draw
 * them all on one page from build/bench/*.json.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Whether smaller figures are better (times, bytes) or larger ones (rates). */
export type Better = 'lower' | 'higher';

export interface Stats {
  readonly samples: readonly number[];
  /** The best sample (smallest for 'lower', largest for 'higher'): what the code can do undisturbed. */
  readonly best: number;
  readonly median: number;
}

export interface Target {
  /** Largest allowed cost ratio ours/peer (for 'higher' figures: peer/ours), e.g. 1.3. */
  readonly maxRatio?: number;
  /** Bounds on our own figure, in the comparison's unit. */
  readonly maxValue?: number;
  readonly minValue?: number;
  /** Which of our statistics the target is judged on (default 'best'). */
  readonly on?: 'best' | 'median';
  /** The target as the issue states it, e.g. '≤ 1.3x mpi4py'. */
  readonly text: string;
}

export interface Comparison {
  /** Stable key, e.g. 'comm.threads.roundtrip.8B'. */
  readonly id: string;
  readonly title: string;
  /** Unit of the samples, e.g. 's', 'µs', 'M updates/s', 'MiB'. */
  readonly unit: string;
  readonly better: Better;
  readonly ours: Stats;
  readonly peer?: Stats & { readonly name: string };
  /** Why there is no peer figure (not installed, failed), so no ratio is printed. */
  readonly peerMissing?: string;
  /**
   * Cost ratio ours/peer (for 'higher' figures: peer/ours), so that below 1 always means we are
   * better; best against best and median against median.
   */
  readonly ratio?: { readonly best: number; readonly median: number };
  readonly target?: Target;
  /** Whether the target holds (undefined when it cannot be judged: no peer for a ratio target). */
  readonly met?: boolean;
}

export function stats(samples: readonly number[], better: Better): Stats {
  if (samples.length === 0) throw new Error('stats of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { samples: [...samples], best: better === 'lower' ? sorted[0]! : sorted[sorted.length - 1]!, median };
}

export type Sampler = () => number | Promise<number>;

/** Runs ours and the peer alternately, `rounds` times each (at least 5), after one warm-up of each. */
export async function interleave(rounds: number, ours: Sampler, peer?: Sampler, options: { warmup?: boolean } = {}): Promise<{ ours: number[]; peer?: number[] }> {
  const n = Math.max(5, rounds);
  if (options.warmup !== false) {
    await ours();
    if (peer) await peer();
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < n; i++) {
    a.push(await ours());
    if (peer) b.push(await peer());
  }
  return peer ? { ours: a, peer: b } : { ours: a };
}

export interface CompareInput {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly better: Better;
  readonly ours: readonly number[];
  /** The peer's samples with its name; omit and give peerMissing when there is none. */
  readonly peer?: { readonly name: string; readonly samples: readonly number[] };
  readonly peerMissing?: string;
  readonly target?: Target;
}

export function compare(input: CompareInput): Comparison {
  const ours = stats(input.ours, input.better);
  const peer = input.peer && input.peer.samples.length > 0 ? { name: input.peer.name, ...stats(input.peer.samples, input.better) } : undefined;
  const cost = (o: number, p: number) => (input.better === 'lower' ? o / p : p / o);
  const ratio = peer ? { best: cost(ours.best, peer.best), median: cost(ours.median, peer.median) } : undefined;
  const peerMissing = peer ? undefined : (input.peerMissing ?? (input.peer ? `${input.peer.name} gave no samples` : undefined));
  return { id: input.id, title: input.title, unit: input.unit, better: input.better, ours, peer, peerMissing, ratio, target: input.target, met: judge(ours, ratio, input.target) };
}

function judge(ours: Stats, ratio: Comparison['ratio'], target: Target | undefined): boolean | undefined {
  if (!target) return undefined;
  const on = target.on ?? 'best';
  const value = ours[on];
  if (target.maxValue !== undefined && !(value <= target.maxValue)) return false;
  if (target.minValue !== undefined && !(value >= target.minValue)) return false;
  if (target.maxRatio !== undefined) {
    if (!ratio) return undefined;
    return ratio[on] <= target.maxRatio;
  }
  return true;
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3));

/** One line: title, ours best (median), the peer's, the ratio, the target and its verdict. */
export function formatComparison(c: Comparison): string {
  const side = (s: Stats) => `${fmt(s.best)} ${c.unit} (median ${fmt(s.median)})`;
  const parts = [`${c.title}: ours ${side(c.ours)}`];
  if (c.peer) parts.push(`${c.peer.name} ${side(c.peer)}`, `ratio ${c.ratio!.best.toFixed(2)}x best, ${c.ratio!.median.toFixed(2)}x median`);
  else if (c.peerMissing) parts.push(`no peer: ${c.peerMissing}`);
  if (c.target) parts.push(`target ${c.target.text}: ${c.met === undefined ? 'not judged' : c.met ? 'met' : 'NOT MET'}`);
  return parts.join('; ');
}

export function machine(): Record<string, unknown> {
  return { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverage: os.loadavg(), node: process.version, platform: `${os.type()} ${os.release()}` };
}

/** The project root, from dist/bench/<...>/file.js or bench/<...>/file.ts. */
export const projectRoot = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
})();

/** Collects a benchmark's comparisons and writes build/bench/<name>.json with anything else it measured. */
export class Results {
  readonly comparisons: Comparison[] = [];

  constructor(readonly name: string) {}

  /** Adds a comparison and prints its line. */
  add(input: CompareInput): Comparison {
    const c = compare(input);
    this.comparisons.push(c);
    console.log(formatComparison(c));
    return c;
  }

  write(extra: Record<string, unknown> = {}): string {
    const file = path.join(projectRoot, 'build', 'bench', `${this.name.replace(/\//g, '-')}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ name: this.name, date: new Date().toISOString(), machine: machine(), comparisons: this.comparisons, ...extra }, null, 2) + '\n');
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
    return file;
  }
}
