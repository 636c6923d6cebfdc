/**
 * Benchmark of %%parallel (not a test): the lecture's Simpson integrator (1e8 points) and 1D
 * diffusion (1e7 points × 10 steps) at 1 and 2 threads against Numba's prange versions of the same
 * code (bench/peers/numba_parallel.py), measured in the same run, interleaved sample by sample
 * (ours, Numba, ours, Numba …). Also, for the record: the serial TypeScript loop, the machine's
 * own 2-thread ceiling for the Simpson loop and the cost of an empty prange. Writes
 * build/bench/parallel.json (both sides' samples).
 *
 *   node dist/bench/parallel/index.js [--quick]
 */
import * as os from 'node:os';
import { shutdownParallel } from '../../src/parallel/index.js';
import { machineCeiling } from '../../src/trace/ceiling.js';
import { interleave, Results } from '../peers/compare.js';
import { peerScript, pythonMissing, PythonPeer } from '../peers/python.js';
import { runCell } from './cells.js';
import { diffusionCell, diffusionSerialCell, emptyCell, integrateExpCell, integrateExpSerialCell } from './lecture-cells.js';

const quick = process.argv.includes('--quick');
const kRounds = quick ? 5 : 7;
const kNumbaTarget = { maxRatio: 1.0, text: '≤ 1.0x Numba (best against best)' };
const kEmptyPrangeMicros = 20;

type Integrator = (a: number, b: number, dx: number) => number;
type Diffusion = (nt: number, c: Float64Array) => Float64Array;

/** Seconds one call takes. */
function seconds(f: () => unknown): number {
  const t = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

/** CPU seconds of the whole process (every thread) for one call: what a loaded machine inflates least. */
function cpuSeconds(f: () => unknown): number {
  const c = process.cpuUsage();
  f();
  const used = process.cpuUsage(c);
  return (used.user + used.system) / 1e6;
}

/**
 * The one-thread case again in CPU seconds, ours against Numba's: on a shared machine the
 * wall-clock figures carry other processes' load; CPU time says what the code itself costs.
 */
async function cpuAtOneThread(results: Results, numba: ReturnType<typeof startNumba>, id: string, title: string, ours: () => unknown, peerCase: [string, Record<string, unknown>]): Promise<void> {
  const peer = numba.peer && (() => numba.peer!.run(peerCase[0], { ...peerCase[1], threads: 1, clock: 'cpu' }));
  const s = await interleave(kRounds, () => cpuSeconds(ours), peer);
  results.add({
    id: `${id}.cpu`,
    title: `${title}, 1 thread, CPU seconds`,
    unit: 's CPU',
    better: 'lower',
    ours: s.ours,
    ...(s.peer ? { peer: { name: 'Numba', samples: s.peer } } : { peerMissing: numba.missing ?? 'Numba did not run' }),
  });
}

function startNumba(): { peer?: PythonPeer; missing?: string } {
  const missing = pythonMissing(['numba', 'numpy']);
  if (missing) return { missing };
  // NUMBA_NUM_THREADS is the most a case may ask for; each case sets its own with set_num_threads.
  return { peer: new PythonPeer(peerScript('numba_parallel.py'), { env: { NUMBA_NUM_THREADS: '2' } }) };
}

async function simpson(results: Results, numba: ReturnType<typeof startNumba>): Promise<Record<string, unknown>> {
  const points = quick ? 1e7 : 1e8;
  const dx = 1 / points;
  const byThreads: Record<number, Integrator> = {
    1: runCell(integrateExpCell, { threads: 1 })['integrateExp'] as Integrator,
    2: runCell(integrateExpCell, { threads: 2 })['integrateExp'] as Integrator,
  };
  const error = Math.abs(byThreads[2]!(0, 1, dx) - (Math.E - 1));
  const best: Record<number, number> = {};
  for (const threads of [1, 2]) {
    const ours = () => seconds(() => byThreads[threads]!(0, 1, dx));
    const peer = numba.peer && (() => numba.peer!.run('simpson', { threads, points }));
    const s = await interleave(kRounds, ours, peer);
    const c = results.add({
      id: `parallel.simpson.threads${threads}`,
      title: `Simpson of exp, ${points.toExponential(0)} points, ${threads} thread${threads > 1 ? 's' : ''}`,
      unit: 's',
      better: 'lower',
      ours: s.ours,
      ...(s.peer ? { peer: { name: 'Numba', samples: s.peer } } : { peerMissing: numba.missing ?? 'Numba did not run' }),
      target: kNumbaTarget,
    });
    best[threads] = c.ours.best;
  }
  // V8's Math.exp costs more the larger its argument, so the default static schedule's two
  // contiguous halves of [0, 1] are unequal work; chunks dealt round robin balance them.
  const chunk = points / 100;
  const balanced = runCell(integrateExpCell, { threads: 2, schedule: { kind: 'static', chunk } })['integrateExp'] as Integrator;
  const b = await interleave(kRounds, () => seconds(() => balanced(0, 1, dx)), numba.peer && (() => numba.peer!.run('simpson', { threads: 2, points })));
  results.add({
    id: 'parallel.simpson.threads2.chunked',
    title: `Simpson of exp, ${points.toExponential(0)} points, 2 threads, --schedule static,${chunk.toExponential(0)} (balanced), informative`,
    unit: 's',
    better: 'lower',
    ours: b.ours,
    ...(b.peer ? { peer: { name: 'Numba', samples: b.peer } } : { peerMissing: numba.missing ?? 'Numba did not run' }),
  });
  await cpuAtOneThread(results, numba, 'parallel.simpson.threads1', `Simpson of exp, ${points.toExponential(0)} points`, () => byThreads[1]!(0, 1, dx), ['simpson', { points }]);
  const serial = runCell(integrateExpSerialCell, { serial: true })['integrateExpSerial'] as Integrator;
  const serialBest = Math.min(...Array.from({ length: 3 }, () => seconds(() => serial(0, 1, dx))));
  const ceiling = machineCeiling([2]).get(2)!;
  const speedup = best[1]! / best[2]!;
  console.log(
    `  serial TypeScript loop ${serialBest.toFixed(3)} s; speed-up 2 vs 1 thread ${speedup.toFixed(2)} (balanced chunks ${(best[1]! / Math.min(...b.ours)).toFixed(2)}); ` +
      `the machine's ceiling (the same loop on two bare worker threads) ${ceiling.toFixed(2)}x, ` +
      `%%parallel reaches ${((100 * speedup) / ceiling).toFixed(0)}% of it; error vs e-1 ${error.toExponential(1)}`,
  );
  return { points, errorVsExact: error, serialTypeScriptSeconds: serialBest, speedup2vs1: speedup, machineCeiling2Threads: ceiling };
}

async function diffusion(results: Results, numba: ReturnType<typeof startNumba>): Promise<Record<string, unknown>> {
  const points = quick ? 1e6 : 1e7;
  const steps = 10;
  const cells = runCell(diffusionCell, { threads: 2 });
  const init = cells['initialCondition'] as (nx: number) => Float64Array;
  const byThreads: Record<number, Diffusion> = { 1: runCell(diffusionCell, { threads: 1 })['diffusion'] as Diffusion, 2: cells['diffusion'] as Diffusion };
  const serial = runCell(diffusionSerialCell, { serial: true })['diffusionSerial'] as Diffusion;
  const same = Buffer.from(byThreads[2]!(steps, init(points)).buffer).equals(Buffer.from(serial(steps, init(points)).buffer));
  const c0 = init(points);
  for (const threads of [1, 2]) {
    const ours = () => seconds(() => byThreads[threads]!(steps, c0));
    const peer = numba.peer && (() => numba.peer!.run('diffusion', { threads, points, steps }));
    const s = await interleave(kRounds, ours, peer);
    results.add({
      id: `parallel.diffusion.threads${threads}`,
      title: `1D diffusion, ${points.toExponential(0)} points x ${steps} steps, ${threads} thread${threads > 1 ? 's' : ''}`,
      unit: 's',
      better: 'lower',
      ours: s.ours,
      ...(s.peer ? { peer: { name: 'Numba', samples: s.peer } } : { peerMissing: numba.missing ?? 'Numba did not run' }),
      target: kNumbaTarget,
    });
  }
  await cpuAtOneThread(results, numba, 'parallel.diffusion.threads1', `1D diffusion, ${points.toExponential(0)} points x ${steps} steps`, () => byThreads[1]!(steps, c0), ['diffusion', { points, steps }]);
  console.log(`  bit-for-bit equal to the serial TypeScript loop: ${same}`);
  return { points, steps, bitForBitEqualToSerial: same };
}

function emptyPrange(results: Results): void {
  const empty = runCell(emptyCell, { threads: 2 })['empty'] as (n: number) => void;
  const calls = quick ? 2_000 : 20_000;
  for (let k = 0; k < 1000; k++) empty(2);
  const perCall = Array.from({ length: 7 }, () => (seconds(() => { for (let k = 0; k < calls; k++) empty(2); }) * 1e6) / calls);
  results.add({
    id: 'parallel.emptyPrange',
    title: 'Empty prange, 2 threads (start and finish a loop)',
    unit: 'µs',
    better: 'lower',
    ours: perCall,
    peerMissing: 'no peer for this figure',
    target: { maxValue: kEmptyPrangeMicros, text: `≤ ${kEmptyPrangeMicros} µs` },
  });
}

async function main(): Promise<void> {
  const load = os.loadavg();
  console.log(`%%parallel against Numba, interleaved, ${kRounds} rounds each; ${os.cpus().length} CPUs (${os.cpus()[0]?.model}), load average ${load.map((x) => x.toFixed(1)).join(' ')}`);
  const results = new Results('parallel');
  const numba = startNumba();
  if (numba.missing) console.log(`Numba is missing: ${numba.missing}; no ratios.`);
  try {
    const s = await simpson(results, numba);
    const d = await diffusion(results, numba);
    emptyPrange(results);
    results.write({ simpson: s, diffusion: d, loadAverageAtStart: load, loadAverageAtEnd: os.loadavg() });
  } finally {
    await numba.peer?.close();
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => void shutdownParallel());
