/**
 * Pool benchmark (not a test): per-task overhead of map, start/close time, the lecture's sleep
 * case and Simpson integrators, against Python's multiprocessing.Pool (reference figures, and
 * measured in the same run when python3 is there). Prints a table; writes build/bench/pool.json.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/pool/index.js
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool, partial, type Backend } from '../../src/pool/index.js';
import { median, repeat, time } from './measure.js';
import { measurePython, type PythonFigures } from './python-baseline.js';

/** Python's multiprocessing.Pool on this kind of machine (given with the task). */
const kPythonReference = { perTaskChunk1Us: 10.9, perTaskDefaultUs: 0.1, startCloseMs: 4.3, sleepCaseS: 0.5 };
const kTargets = { perTaskChunk1Us: 5, perTaskDefaultUs: 0.1, sleepCaseWithin: 0.05 };
const kTasks = 100_000;

// Task functions ship by source: they may use only globals and their arguments.
const trivial = (x: number): number => x;
const napBlocking = (x: number): number => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // like time.sleep(0.1): the worker is blocked
  return x;
};
/** The lecture's V1: the worker computes its own piece from its id. */
function integrateV1(id: number, fun: (x: number) => number, range: number[], dx: number, nproc: number): number {
  const a = range[0] as number;
  const b = range[1] as number;
  const xmin = a + (id * (b - a)) / nproc;
  const xmax = id + 1 === nproc ? b : a + ((id + 1) * (b - a)) / nproc;
  let nx = Math.ceil((xmax - xmin) / dx);
  if (nx % 2 === 0) nx += 1;
  const h = (xmax - xmin) / (nx - 1);
  let odd = 0;
  let even = 0;
  for (let i = 1; i < nx - 1; i += 2) odd += fun(xmin + i * h);
  for (let i = 2; i < nx - 1; i += 2) even += fun(xmin + i * h);
  return (h * (fun(xmin) + fun(xmax) + 4 * odd + 2 * even)) / 3;
}
/** The lecture's V2: limits pre-split by the caller. */
function integrateV2(lims: number[], fun: (x: number) => number, dx: number): number {
  const x1 = lims[0] as number;
  const x2 = lims[1] as number;
  let n = Math.ceil((x2 - x1) / dx);
  if ((n & 1) === 0) n += 1;
  const h = (x2 - x1) / (n - 1);
  let odd = 0;
  let even = 0;
  for (let i = 1; i < n - 1; i += 2) odd += fun(x1 + i * h);
  for (let i = 2; i < n - 1; i += 2) even += fun(x1 + i * h);
  return (h * (fun(x1) + fun(x2) + 4 * odd + 2 * even)) / 3;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
const quiet = { onOutput: () => undefined };

interface OverheadFigures {
  readonly perTaskChunk1Us: number;
  readonly perTaskDefaultUs: number;
  readonly runsChunk1S: number[];
  readonly runsDefaultS: number[];
}

async function overhead(backend: Backend): Promise<OverheadFigures> {
  const pool = new Pool({ workers: 2, backend, ...quiet });
  try {
    const xs = range(kTasks);
    await pool.ready();
    const runsChunk1S = await repeat(7, () => pool.map(trivial, xs, { chunksize: 1 }), 2);
    const runsDefaultS = await repeat(15, () => pool.map(trivial, xs), 3);
    return {
      perTaskChunk1Us: (median(runsChunk1S) / kTasks) * 1e6,
      perTaskDefaultUs: (median(runsDefaultS) / kTasks) * 1e6,
      runsChunk1S,
      runsDefaultS,
    };
  } finally {
    await pool.close();
  }
}

async function startClose(backend: Backend): Promise<{ startMs: number; closeMs: number; totalMs: number }> {
  const starts: number[] = [];
  const closes: number[] = [];
  for (let i = 0; i < 7; i++) {
    let pool: Pool | undefined;
    starts.push(await time(async () => {
      pool = new Pool({ workers: 2, backend, ...quiet });
      await pool.ready();
    }));
    closes.push(await time(() => (pool as Pool).close()));
  }
  const startMs = median(starts) * 1e3;
  const closeMs = median(closes) * 1e3;
  return { startMs, closeMs, totalMs: startMs + closeMs };
}

async function sleepCase(backend: Backend): Promise<number> {
  const pool = new Pool({ workers: 8, backend, ...quiet });
  try {
    await pool.ready();
    await pool.map(trivial, range(8));
    return median(await repeat(3, () => pool.map(napBlocking, range(33)), 0));
  } finally {
    await pool.close();
  }
}

interface SimpsonFigures {
  readonly name: string;
  readonly workers: number;
  readonly poolS: number;
  readonly serialS: number;
  readonly error: number;
}

async function simpson(backend: Backend): Promise<SimpsonFigures[]> {
  const out: SimpsonFigures[] = [];
  const run = async (name: string, workers: number, pieces: unknown[], task: (x: never) => number, serial: () => number): Promise<void> => {
    const pool = new Pool({ workers, backend, ...quiet });
    try {
      await pool.ready();
      let total = 0;
      const poolS = median(await repeat(5, async () => (total = sum(await pool.map(task, pieces as never[])))));
      const serialS = median(await repeat(5, async () => serial()));
      out.push({ name, workers, poolS, serialS, error: total - (Math.E - 1) });
    } finally {
      await pool.close();
    }
  };
  const v1 = partial(integrateV1, { fun: Math.exp, range: [0, 1], dx: 1 / 256, nproc: 4 });
  await run('V1 (nproc=4, dx=1/256)', 4, range(4), v1 as (x: never) => number, () => sum(range(4).map((id) => v1(id))));
  const lims = (n: number): number[][] => range(n).map((i) => [i / n, (i + 1) / n]);
  const v2 = partial(integrateV2, { fun: Math.exp, dx: 0.001 });
  await run('V2 (8 pieces, dx=0.001)', 8, lims(8), v2 as (x: never) => number, () => sum(lims(8).map((l) => v2(l))));
  const heavy = partial(integrateV2, { fun: Math.exp, dx: 2e-8 });
  await run('V2 heavy (2 pieces, dx=2e-8)', 2, lims(2), heavy as (x: never) => number, () => sum(lims(2).map((l) => heavy(l))));
  return out;
}

function line(label: string, value: string, target: string, ratio: string): string {
  return `  ${label.padEnd(44)} ${value.padStart(12)}   ${target.padEnd(22)} ${ratio}`;
}

async function main(): Promise<void> {
  const cores = os.availableParallelism();
  console.log(`pool benchmark — node ${process.version}, ${cores} cores (shared; figures are noisy), ${os.loadavg()[0]?.toFixed(2)} load\n`);
  const results: Record<string, unknown> = { node: process.version, cores, loadAverage: os.loadavg(), date: new Date().toISOString() };
  const python: PythonFigures | undefined = measurePython();
  results.pythonMeasured = python ?? null;
  results.pythonReference = kPythonReference;
  results.targets = kTargets;

  for (const backend of ['threads', 'processes'] as const) {
    const o = await overhead(backend);
    const s = await startClose(backend);
    const sleep = await sleepCase(backend);
    const integrators = await simpson(backend);
    results[backend] = { overhead: o, startClose: s, sleepCaseS: sleep, simpson: integrators };
    const py = python ?? kPythonReference;
    const pyNote = python ? 'python measured' : 'python reference';
    console.log(`${backend} (2 workers unless noted)`);
    console.log(line('map, 100k trivial tasks, chunksize 1', `${o.perTaskChunk1Us.toFixed(3)} µs/task`, `target ≤ ${kTargets.perTaskChunk1Us} µs`, `${(o.perTaskChunk1Us / kTargets.perTaskChunk1Us).toFixed(2)}× target, ${(o.perTaskChunk1Us / py.perTaskChunk1Us).toFixed(2)}× ${pyNote} (${py.perTaskChunk1Us.toFixed(2)} µs)`));
    console.log(line('map, 100k trivial tasks, default chunks', `${o.perTaskDefaultUs.toFixed(3)} µs/task`, `target ≤ ${kTargets.perTaskDefaultUs} µs`, `${(o.perTaskDefaultUs / kTargets.perTaskDefaultUs).toFixed(2)}× target, ${(o.perTaskDefaultUs / py.perTaskDefaultUs).toFixed(2)}× ${pyNote} (${py.perTaskDefaultUs.toFixed(2)} µs)`));
    console.log(line('start 2 workers (until all answered)', `${s.startMs.toFixed(1)} ms`, 'reported as measured', ''));
    console.log(line('close 2 workers (until exited)', `${s.closeMs.toFixed(1)} ms`, 'reported as measured', `start+close ${(s.totalMs / py.startCloseMs).toFixed(1)}× ${pyNote} (${py.startCloseMs.toFixed(1)} ms)`));
    console.log(line('33 tasks × 0.1 s sleep on 8 workers', `${sleep.toFixed(3)} s`, 'ideal 0.5 s, ≤ 5% over', `${((sleep / 0.5 - 1) * 100).toFixed(1)}% over ideal; ${pyNote} ${py.sleepCaseS.toFixed(3)} s`));
    for (const r of integrators) {
      console.log(line(`Simpson ${r.name}, ${r.workers} workers`, `${(r.poolS * 1e3).toFixed(2)} ms`, `serial ${(r.serialS * 1e3).toFixed(2)} ms`, `speed-up ${(r.serialS / r.poolS).toFixed(2)}×, error ${r.error.toExponential(2)}`));
    }
    console.log('');
  }
  const file = path.resolve(__dirname, '../../../build/bench/pool.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`written ${path.relative(process.cwd(), file)}`);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
