/**
 * Tracing benchmark (not a test): what %%timeline and %%mpirun --timeline cost when they record,
 * against the same work untraced, interleaved in the same run. The targets: ≤ 10% on a
 * pool.map of 10,000 small tasks and on the lecture's 2D diffusion at np 2. (Tracing off is one
 * null check per batch, loop or message: the pool, parallel and comm benchmarks cover it.)
 *
 *   npm run bench -- trace [--quick]
 */
import { runRanks } from '../../src/comm/index.js';
import { Pool } from '../../src/pool/index.js';
import { startTrace } from '../../src/trace/recorder.js';
import { diffusion } from '../comm/ranks.js';
import { interleave, Results } from '../peers/compare.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 9 : 21;
const results = new Results('trace');

async function poolMap(): Promise<void> {
  const pool = new Pool({ workers: 2, backend: 'threads', onOutput: () => undefined });
  const tasks = Array.from({ length: 10_000 }, (_, i) => i);
  const square = (x: number): number => x * x;
  const once = async (traced: boolean): Promise<number> => {
    const trace = traced ? startTrace() : undefined;
    const t0 = performance.now();
    await pool.map(square, tasks);
    const ms = performance.now() - t0;
    trace?.stop();
    return ms;
  };
  try {
    // A map takes about a millisecond: warm both paths up well (the JIT, the workers' caches).
    for (let i = 0; i < 20; i++) await once(i % 2 === 0);
    const r = await interleave(rounds, () => once(true), () => once(false));
    results.add({
      id: 'trace.pool.map10k',
      title: 'pool.map of 10,000 small tasks, traced (%%timeline) against untraced',
      unit: 'ms',
      better: 'lower',
      ours: r.ours,
      peer: { name: 'untraced', samples: r.peer! },
      target: { maxRatio: 1.1, on: 'median', text: '≤ 1.10x untraced' },
    });
  } finally {
    await pool.close();
  }
}

/** The bench's diffusion rank function, started with traceRank when data.trace is set. */
const kTracedDiffusion = `async (comm, rank, size, data) => {
  const diffusion = ${diffusion.toString()};
  const trace = data.trace ? await require('tslab-parallel/dist/src/trace/comm-rank.js').traceRank(comm) : undefined;
  const { seconds } = await diffusion(comm, rank, size, data);
  trace?.stop();
  return seconds;
}`;

async function diffusionNp2(): Promise<void> {
  const grid = { Nx: 1024, Ny: 512, Nt: quick ? 100 : 200 };
  const once = async (trace: boolean): Promise<number> => {
    const seconds = await runRanks<number>({ np: 2, backend: 'threads', code: kTracedDiffusion, data: { ...grid, trace }, onOutput: () => undefined });
    return seconds[0]! * 1000;
  };
  const r = await interleave(rounds, () => once(true), () => once(false));
  results.add({
    id: 'trace.comm.diffusion2d.np2',
    title: `2D diffusion ${grid.Nx}×${grid.Ny}, ${grid.Nt} steps at np 2 (threads), traced (--timeline) against untraced`,
    unit: 'ms',
    better: 'lower',
    ours: r.ours,
    peer: { name: 'untraced', samples: r.peer! },
    target: { maxRatio: 1.1, on: 'median', text: '≤ 1.10x untraced' },
  });
}

async function main(): Promise<void> {
  await poolMap();
  await diffusionNp2();
  results.write();
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
