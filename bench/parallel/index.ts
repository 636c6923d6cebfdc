/**
 * Benchmark of %%parallel (not a test): the lecture's Simpson integrator and 1D diffusion at 1
 * and 2 threads against a serial TypeScript loop and against Numba's figures on a 2-core
 * machine, plus the cost of an empty prange. Prints figures, targets and ratios, and writes
 * build/bench/parallel.json.
 *
 *   node dist/bench/parallel/index.js [--quick]
 *
 * Each figure is the best of several runs (the least disturbed by other work on the machine),
 * with the median beside it; runs of the variants are interleaved so that load hits all alike.
 */
import { machineCeiling } from './ceiling.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { shutdownParallel } from '../../src/parallel/index.js';
import { runCell } from './cells.js';
import { diffusionCell, diffusionSerialCell, emptyCell, integrateExpCell, integrateExpSerialCell } from './lecture-cells.js';

/** Numba on a 2-core machine of this kind (lecture benchmark, measured by the project). */
const kNumba = {
  simpson1: 0.42,
  simpson2: 0.21,
  diffusion1: 612e6,
  diffusion2: 1091e6,
};
const kTargets = { simpsonSpeedup: 1.9, emptyPrangeMicros: 20 };

interface Timing {
  /** Wall-clock seconds, best run. */
  readonly best: number;
  readonly median: number;
  /** CPU seconds of the whole process (all threads), best run: what the work costs, whatever the load. */
  readonly cpu: number;
  readonly runs: number;
}

const quick = process.argv.includes('--quick');

/** Busy CPU seconds of the whole machine so far (Linux /proc/stat; 0 elsewhere). */
function machineBusySeconds(): number {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return (fields.reduce((a, b) => a + b, 0) - idle) / 100; // USER_HZ
  } catch {
    return 0;
  }
}

/** Runs `f` and says how many cores other processes kept busy meanwhile. */
function withInterference<T extends Record<string, unknown>>(f: () => T): T & { otherProcessesCores: number } {
  const wall = process.hrtime.bigint();
  const busy = machineBusySeconds();
  const ours = process.cpuUsage();
  const result = f();
  const used = process.cpuUsage(ours);
  const seconds = Number(process.hrtime.bigint() - wall) / 1e9;
  const others = machineBusySeconds() - busy - (used.user + used.system) / 1e6;
  return { ...result, otherProcessesCores: Math.max(0, others / seconds) };
}

function timeInterleaved(variants: Record<string, () => void>, runs: number): Record<string, Timing> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (const f of Object.values(variants)) f(); // warm-up: JIT, team start, shipping
  for (let r = 0; r < runs; r++) {
    for (const [name, f] of Object.entries(variants)) {
      const c = process.cpuUsage();
      const t = process.hrtime.bigint();
      f();
      samples[name]!.push(Number(process.hrtime.bigint() - t) / 1e9);
      const used = process.cpuUsage(c);
      cpu[name]!.push((used.user + used.system) / 1e6);
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([k, s]) => {
      const sorted = [...s].sort((a, b) => a - b);
      return [k, { best: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, cpu: Math.min(...cpu[k]!), runs }];
    }),
  );
}

function simpson(): Record<string, unknown> {
  const points = quick ? 1e7 : 1e8;
  const dx = 1 / points;
  const serial = runCell(integrateExpSerialCell, { serial: true })['integrateExpSerial'] as (a: number, b: number, dx: number) => number;
  const one = runCell(integrateExpCell, { threads: 1 })['integrateExp'] as typeof serial;
  const two = runCell(integrateExpCell, { threads: 2 })['integrateExp'] as typeof serial;
  const error = Math.abs(two(0, 1, dx) - (Math.E - 1));
  const t = timeInterleaved({ serial: () => serial(0, 1, dx), threads1: () => one(0, 1, dx), threads2: () => two(0, 1, dx) }, quick ? 3 : 7);
  const scale = 1e8 / points; // report per 1e8 points
  return {
    points,
    errorVsExact: error,
    secondsPer1e8: {
      serialTypeScript: t['serial']!.best * scale,
      threads1: t['threads1']!.best * scale,
      threads2: t['threads2']!.best * scale,
    },
    medianSecondsPer1e8: {
      serialTypeScript: t['serial']!.median * scale,
      threads1: t['threads1']!.median * scale,
      threads2: t['threads2']!.median * scale,
    },
    cpuSecondsPer1e8: {
      serialTypeScript: t['serial']!.cpu * scale,
      threads1: t['threads1']!.cpu * scale,
      threads2: t['threads2']!.cpu * scale,
    },
    speedup2vs1: t['threads1']!.best / t['threads2']!.best,
    vsSerialTypeScript: { threads1: t['serial']!.best / t['threads1']!.best, threads2: t['serial']!.best / t['threads2']!.best },
    vsNumba: { threads1: kNumba.simpson1 / (t['threads1']!.best * scale), threads2: kNumba.simpson2 / (t['threads2']!.best * scale) },
  };
}

function diffusion(): Record<string, unknown> {
  const nx = quick ? 1e6 : 1e7;
  const steps = 10;
  const cells = runCell(diffusionCell, { threads: 2 });
  const init = cells['initialCondition'] as (nx: number) => Float64Array;
  const two = cells['diffusion'] as (nt: number, c: Float64Array) => Float64Array;
  const one = runCell(diffusionCell, { threads: 1 })['diffusion'] as typeof two;
  const serial = runCell(diffusionSerialCell, { serial: true })['diffusionSerial'] as typeof two;
  const c0 = init(nx);
  const same = Buffer.from(two(steps, init(nx)).buffer).equals(Buffer.from(serial(steps, init(nx)).buffer));
  const t = timeInterleaved({ serial: () => serial(steps, c0), threads1: () => one(steps, c0), threads2: () => two(steps, c0) }, quick ? 3 : 7);
  const updates = (nx - 2) * steps;
  const rate = (k: string) => updates / t[k]!.best;
  return {
    points: nx,
    steps,
    bitForBitEqualToSerial: same,
    updatesPerSecond: { serialTypeScript: rate('serial'), threads1: rate('threads1'), threads2: rate('threads2') },
    medianUpdatesPerSecond: {
      serialTypeScript: updates / t['serial']!.median,
      threads1: updates / t['threads1']!.median,
      threads2: updates / t['threads2']!.median,
    },
    cpuUpdatesPerSecond: {
      serialTypeScript: updates / t['serial']!.cpu,
      threads1: updates / t['threads1']!.cpu,
      threads2: updates / t['threads2']!.cpu,
    },
    speedup2vs1: rate('threads2') / rate('threads1'),
    vsNumba: { threads1: rate('threads1') / kNumba.diffusion1, threads2: rate('threads2') / kNumba.diffusion2 },
  };
}

function emptyPrange(): Record<string, unknown> {
  const empty = runCell(emptyCell, { threads: 2 })['empty'] as (n: number) => void;
  const calls = quick ? 2_000 : 20_000;
  const batches = 7;
  const perCall: number[] = [];
  for (let k = 0; k < 1000; k++) empty(2);
  for (let b = 0; b < batches; b++) {
    const t = process.hrtime.bigint();
    for (let k = 0; k < calls; k++) empty(2);
    perCall.push(Number(process.hrtime.bigint() - t) / 1e3 / calls);
  }
  perCall.sort((a, b) => a - b);
  return { threads: 2, calls: calls * batches, microsPerLoop: perCall[0], medianMicrosPerLoop: perCall[Math.floor(batches / 2)] };
}

function main(): void {
  const load = os.loadavg();
  const s = withInterference(simpson);
  const ceiling = machineCeiling(s['points'] as number, quick ? 3 : 5);
  const d = withInterference(diffusion);
  const e = withInterference(emptyPrange);
  const report = {
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: os.loadavg(), node: process.version },
    simpson: s,
    machineCeiling: { ...ceiling, fractionReached: (s['speedup2vs1'] as number) / ceiling.speedup },
    diffusion: d,
    emptyPrange: e,
    numba: kNumba,
    targets: {
      simpsonSpeedup2vs1: kTargets.simpsonSpeedup,
      simpsonAtLeastNumba: true,
      diffusionAtLeastNumba: true,
      emptyPrangeMicros: kTargets.emptyPrangeMicros,
    },
  };
  const sec = s['secondsPer1e8'] as Record<string, number>;
  const cpuSec = s['cpuSecondsPer1e8'] as Record<string, number>;
  const cpuRate = d['cpuUpdatesPerSecond'] as Record<string, number>;
  const rate = d['updatesPerSecond'] as Record<string, number>;
  const vsS = s['vsNumba'] as Record<string, number>;
  const vsD = d['vsNumba'] as Record<string, number>;
  const f = (x: number, digits = 3) => x.toFixed(digits);
  const lines = [
    `%%parallel benchmark — ${report.machine.cpus} CPUs (${report.machine.model}), load average ${load.map((x) => x.toFixed(1)).join(' ')}, Node ${process.version}`,
    '',
    `Simpson of exp on [0, 1], per 1e8 points (measured with ${f(s['points'] as number, 0)}); error vs e-1: ${(s['errorVsExact'] as number).toExponential(1)}; other processes used ${f(s.otherProcessesCores, 1)} of ${report.machine.cpus} cores meanwhile`,
    `  serial TypeScript loop  ${f(sec['serialTypeScript']!)} s   (CPU ${f(cpuSec['serialTypeScript']!)} s)`,
    `  %%parallel -n 1         ${f(sec['threads1']!)} s   (CPU ${f(cpuSec['threads1']!)} s)   Numba ${kNumba.simpson1} s   ratio Numba/ours ${f(vsS['threads1']!, 2)}`,
    `  %%parallel -n 2         ${f(sec['threads2']!)} s   (CPU ${f(cpuSec['threads2']!)} s)   Numba ${kNumba.simpson2} s   ratio Numba/ours ${f(vsS['threads2']!, 2)}`,
    `  speed-up 2 vs 1 thread  ${f(s['speedup2vs1'] as number, 2)}   target >= ${kTargets.simpsonSpeedup}`,
    `  the machine's ceiling: the same loop on two bare worker threads speeds up ${f(ceiling.speedup, 2)}x; %%parallel reaches ${f((100 * (s['speedup2vs1'] as number)) / ceiling.speedup, 0)}% of it`,
    '',
    `1D diffusion, ${d['points']} points x ${d['steps']} steps (bit-for-bit equal to serial: ${d['bitForBitEqualToSerial']}); other processes used ${f(d.otherProcessesCores, 1)} of ${report.machine.cpus} cores meanwhile`,
    `  serial TypeScript loop  ${f(rate['serialTypeScript']! / 1e6, 0)} M updates/s   (per CPU second ${f(cpuRate['serialTypeScript']! / 1e6, 0)} M)`,
    `  %%parallel -n 1         ${f(rate['threads1']! / 1e6, 0)} M updates/s   (per CPU second ${f(cpuRate['threads1']! / 1e6, 0)} M)   Numba ${kNumba.diffusion1 / 1e6} M/s   ratio ours/Numba ${f(vsD['threads1']!, 2)}`,
    `  %%parallel -n 2         ${f(rate['threads2']! / 1e6, 0)} M updates/s   (per CPU second ${f(cpuRate['threads2']! / 1e6, 0)} M)   Numba ${kNumba.diffusion2 / 1e6} M/s   ratio ours/Numba ${f(vsD['threads2']!, 2)}`,
    `  speed-up 2 vs 1 thread  ${f(d['speedup2vs1'] as number, 2)}`,
    '',
    `Empty prange (2 threads): ${f(e['microsPerLoop'] as number, 2)} µs per loop (median ${f(e['medianMicrosPerLoop'] as number, 2)})   target <= ${kTargets.emptyPrangeMicros} µs; other processes used ${f(e.otherProcessesCores, 1)} cores`,
    '',
    'Wall-clock figures are the best of several interleaved runs; CPU figures count every thread of the process.',
    'On a shared, loaded machine the 2-thread figures need a free core: compare the load average above.',
  ];
  console.log(lines.join('\n'));
  const out = path.join(__dirname, '..', '..', '..', 'build', 'bench', 'parallel.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

try {
  main();
} finally {
  void shutdownParallel();
}
