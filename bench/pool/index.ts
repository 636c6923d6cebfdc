/**
 * Pool benchmark (not a test): per-task overhead of map (chunksize 1 and Python's default chunks),
 * start + close, and the lecture's sleep case against Python's multiprocessing.Pool, measured in
 * the same run and interleaved sample by sample (bench/peers: ours, peer, ours, peer …, best and
 * median, ratio); without Python our figures are printed alone, with why. Then the lecture's
 * Simpson integrators against our own serial run. Writes build/bench/pool.json.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/pool/index.js [--quick] [--rounds N]
 */
import * as os from 'node:os';
import { Pool, partial, type Backend } from '../../src/pool/index.js';
import { interleave, Results, type CompareInput, type Target } from '../peers/compare.js';
import { peerScript, pythonMissing, PythonPeer } from '../peers/python.js';
import { median, repeat, time } from './measure.js';

const quick = process.argv.includes('--quick');
const roundsAt = process.argv.indexOf('--rounds');
const kRounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 5;
/** Tasks per map sample (Python takes ~10 µs a task at chunksize 1: 1 s a sample). */
const kTasks = quick ? 20_000 : 100_000;
const kPeerName = 'multiprocessing.Pool';
const kTargets: Record<string, Target> = {
  chunk1: { maxValue: 5, text: '≤ 5 µs per task' },
  default: { maxValue: 0.1, text: '≤ 0.1 µs per task' },
  sleep: { maxValue: 0.525, text: 'ideal 0.5 s, ≤ 5% over' },
};

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

/** The peer's samples, or why there are none (then no ratio is printed). */
function peerSide(samples: number[] | undefined, missing: string | undefined): Pick<CompareInput, 'peer' | 'peerMissing'> {
  return samples ? { peer: { name: kPeerName, samples } } : { peerMissing: missing ?? `${kPeerName} gave no samples` };
}

/** Python's pool as a long-lived peer, or why it cannot run here. */
function startPeer(): { peer?: PythonPeer; missing?: string } {
  const missing = pythonMissing(['multiprocessing']);
  return missing ? { missing } : { peer: new PythonPeer(peerScript('multiprocessing_pool.py')) };
}

/** Per-task overhead of map on 2 workers, ours and the peer's interleaved, in µs per task. */
async function overhead(results: Results, backend: Backend, peer: PythonPeer | undefined, missing: string | undefined): Promise<void> {
  const pool = new Pool({ workers: 2, backend, ...quiet });
  try {
    const xs = range(kTasks);
    await pool.ready();
    for (const [key, chunksize, label] of [
      ['chunk1', 1, 'chunksize 1'],
      ['default', undefined, "Python's default chunks"],
    ] as const) {
      const options = chunksize ? { chunksize } : {};
      const s = await interleave(
        kRounds,
        async () => ((await time(() => pool.map(trivial, xs, options))) / kTasks) * 1e6,
        peer && (async () => (await peer.run('per_task', { n: kTasks, chunksize: chunksize ?? null })) * 1e6),
      );
      results.add({
        id: `pool.${backend}.perTask.${key}`,
        title: `${backend} pool, map of ${kTasks / 1000}k trivial tasks, ${label}, 2 workers`,
        unit: 'µs per task',
        better: 'lower',
        ours: s.ours,
        ...peerSide(s.peer, missing),
        target: kTargets[key],
      });
    }
  } finally {
    await pool.close();
  }
}

/** Start 2 workers until each has answered, then close until they have exited. */
async function startClose(results: Results, backend: Backend, peer: PythonPeer | undefined, missing: string | undefined): Promise<void> {
  const s = await interleave(
    kRounds,
    async () => {
      let pool: Pool | undefined;
      return (
        (await time(async () => {
          pool = new Pool({ workers: 2, backend, ...quiet });
          await pool.map(trivial, [0, 1], { chunksize: 1 });
          await pool.close();
        })) * 1e3
      );
    },
    peer && (async () => (await peer.run('start_close', { workers: 2 })) * 1e3),
  );
  results.add({
    id: `pool.${backend}.startClose`,
    title: `${backend} pool, start 2 workers + one task each + close`,
    unit: 'ms',
    better: 'lower',
    ours: s.ours,
    ...peerSide(s.peer, missing),
  });
}

/** The lecture's case: 33 tasks that block 0.1 s each on 8 workers (ideal: 5 rounds, 0.5 s). */
async function sleepCase(results: Results, backend: Backend, peer: PythonPeer | undefined, missing: string | undefined): Promise<void> {
  const pool = new Pool({ workers: 8, backend, ...quiet });
  try {
    await pool.ready();
    await pool.map(trivial, range(8));
    const s = await interleave(
      quick ? 3 : kRounds,
      () => time(() => pool.map(napBlocking, range(33))),
      peer && (() => peer.run('sleep_case', { workers: 8, tasks: 33 })),
    );
    results.add({
      id: `pool.${backend}.sleepCase`,
      title: `${backend} pool, 33 tasks × 0.1 s sleep on 8 workers`,
      unit: 's',
      better: 'lower',
      ours: s.ours,
      ...peerSide(s.peer, missing),
      target: kTargets.sleep,
    });
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const { peer, missing } = startPeer();
  const results = new Results('pool');
  console.log(
    `pool benchmark on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), load ${os.loadavg()[0]!.toFixed(2)}, ` +
      `Node ${process.version}, ${kRounds} rounds${quick ? ', quick' : ''}`,
  );
  if (missing) console.log(`no peer: ${missing}`);
  const simpsonRuns: Record<string, SimpsonFigures[]> = {};
  try {
    for (const backend of ['threads', 'processes'] as const) {
      console.log(`\n== ${backend}`);
      await overhead(results, backend, peer, missing);
      await startClose(results, backend, peer, missing);
      await sleepCase(results, backend, peer, missing);
      simpsonRuns[backend] = await simpson(backend);
      for (const r of simpsonRuns[backend]) {
        console.log(
          `Simpson ${r.name}, ${r.workers} workers: pool ${(r.poolS * 1e3).toFixed(2)} ms, serial ${(r.serialS * 1e3).toFixed(2)} ms, ` +
            `speed-up ${(r.serialS / r.poolS).toFixed(2)}x, error ${r.error.toExponential(2)}`,
        );
      }
    }
  } finally {
    await peer?.close();
  }
  results.write({ simpson: simpsonRuns, tasks: kTasks, rounds: kRounds });
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
