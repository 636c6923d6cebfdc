/**
 * The machine's ceiling: how much faster the same kind of loop (a sum of exponentials, as in
 * the lectures' Simpson integration) gets on n bare worker threads, with no compiler, no team
 * protocol and no shipping, driven through shared memory. Measured once per process for each
 * thread count; what %scaling draws as "this machine".
 *
 * The threads take chunks of the range in turn, so each gets the same mix of arguments: V8's
 * Math.exp costs more the larger its argument (about 1.3x on [0.5, 1] against [0, 0.5]), and
 * contiguous blocks would measure that imbalance instead of the machine.
 */
import { Worker } from 'node:worker_threads';

/** Points per chunk: 256 chunks in all, dealt to the threads in turn. */
const kChunk = 1 << 14;

const kWorkerCode = `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.ctl);
const range = new Float64Array(workerData.range);
const me = workerData.index;
const kChunk = ${kChunk};
let sink = 0;
Atomics.add(ctl, 1, 1); Atomics.notify(ctl, 1);
for (let seen = 0;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  const dx = range[0], n = range[1], points = range[2];
  let s = 0;
  // Chunks me, me + n, me + 2n, ... of the points (none when this thread sits out).
  for (let a = me * kChunk; me < n && a < points; a += n * kChunk) {
    const b = Math.min(a + kChunk, points);
    for (let i = a; i < b; i++) s += (2 + 2 * (i & 1)) * Math.exp(i * dx);
  }
  sink += s;
  Atomics.add(ctl, 2, 1); Atomics.notify(ctl, 2);
}`;

/** About 40 ms of work on one thread on a current core. */
const kPoints = 1 << 22;
const kRuns = 3;

const measured = new Map<number, number>();

/** Speed-up of n bare threads over one, for each n (cached for the process's lifetime). */
export function machineCeiling(threads: readonly number[]): Map<number, number> {
  const missing = threads.filter((n) => n > 1 && !measured.has(n));
  if (missing.length > 0) measure([1, ...missing]);
  measured.set(1, 1);
  return new Map(threads.map((n) => [n, measured.get(n)!]));
}

function measure(counts: readonly number[]): void {
  const most = Math.max(...counts);
  const ctl = new Int32Array(new SharedArrayBuffer(3 * 4)); // generation, ready, done
  const range = new Float64Array(new SharedArrayBuffer(3 * 8)); // dx, threads taking part, points
  const workers = Array.from({ length: most }, (_, index) => new Worker(kWorkerCode, { eval: true, workerData: { ctl: ctl.buffer, range: range.buffer, index } }));
  try {
    while (Atomics.load(ctl, 1) < most) Atomics.wait(ctl, 1, Atomics.load(ctl, 1), 100);
    const run = (n: number): number => {
      range.set([1 / kPoints, n, kPoints]);
      Atomics.store(ctl, 2, 0);
      const t0 = performance.now();
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      while (Atomics.load(ctl, 2) < most) Atomics.wait(ctl, 2, Atomics.load(ctl, 2));
      return performance.now() - t0;
    };
    run(most); // warm-up: every worker compiles the loop
    const best = new Map<number, number>();
    for (let r = 0; r < kRuns; r++) for (const n of counts) best.set(n, Math.min(best.get(n) ?? Infinity, run(n)));
    const one = best.get(1)!;
    for (const n of counts) if (n > 1) measured.set(n, one / best.get(n)!);
  } finally {
    Atomics.store(ctl, 0, -1);
    Atomics.notify(ctl, 0);
    for (const w of workers) void w.terminate();
  }
}
