/**
 * The machine's own ceiling for the Simpson loop: the same sum on two bare worker threads,
 * without any of %%parallel (no compiler, no team, no shipping), driven through shared memory.
 * On a machine whose two CPUs do not give two full cores to two busy threads, the 2-thread
 * target is out of reach whatever the runtime does; this says how far.
 *
 * The threads take chunks of the range in turn, so both get the same mix of arguments: V8's
 * Math.exp costs more the larger its argument (about 1.3x on [0.5, 1] against [0, 0.5]), and two
 * contiguous halves would measure that imbalance, not the machine.
 */
import { Worker } from 'node:worker_threads';

const kChunk = 100_000;

const kWorkerCode = `
const { workerData } = require('node:worker_threads');
const ctl = new Int32Array(workerData.ctl);
const range = new Float64Array(workerData.range);
const out = new Float64Array(workerData.out);
const me = workerData.index;
// Chunks first, first + stride, ... of kChunk points below n (stride 0: none).
const kChunk = ${kChunk};
function part(first, stride, n, dx) {
  let s = 0;
  if (stride === 0) return s;
  for (let a = first * kChunk; a < n; a += stride * kChunk) {
    const b = Math.min(a + kChunk, n);
    for (let i = a; i < b; i++) s += (2 + 2 * (i & 1)) * Math.exp(i * dx);
  }
  return s;
}
Atomics.add(ctl, 1, 1); Atomics.notify(ctl, 1);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  out[me] = part(range[2 * me], range[2 * me + 1], range[4], range[5]);
  Atomics.add(ctl, 2, 1); Atomics.notify(ctl, 2);
}`;

export interface Ceiling {
  readonly oneThreadSeconds: number;
  readonly twoThreadsSeconds: number;
  readonly speedup: number;
}

export function machineCeiling(points: number, runs: number): Ceiling {
  const ctl = new Int32Array(new SharedArrayBuffer(3 * 4)); // [generation, ready, done]
  const range = new Float64Array(new SharedArrayBuffer(6 * 8)); // [first, stride] per worker, n, dx
  const out = new Float64Array(new SharedArrayBuffer(2 * 8));
  const workers = [0, 1].map((index) => new Worker(kWorkerCode, { eval: true, workerData: { ctl: ctl.buffer, range: range.buffer, out: out.buffer, index } }));
  try {
    while (Atomics.load(ctl, 1) < 2) Atomics.wait(ctl, 1, Atomics.load(ctl, 1), 100);
    const run = (split: boolean): number => {
      range.set(split ? [0, 2, 1, 2, points, 1 / points] : [0, 1, 0, 0, points, 1 / points]);
      Atomics.store(ctl, 2, 0);
      const t = process.hrtime.bigint();
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      while (Atomics.load(ctl, 2) < 2) Atomics.wait(ctl, 2, Atomics.load(ctl, 2));
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    run(false); // warm-up: both workers compile the loop
    const one: number[] = [];
    const two: number[] = [];
    for (let r = 0; r < runs; r++) {
      one.push(run(false));
      two.push(run(true));
    }
    const oneThreadSeconds = Math.min(...one);
    const twoThreadsSeconds = Math.min(...two);
    return { oneThreadSeconds, twoThreadsSeconds, speedup: oneThreadSeconds / twoThreadsSeconds };
  } finally {
    Atomics.store(ctl, 0, -1);
    Atomics.notify(ctl, 0);
    for (const w of workers) void w.terminate();
  }
}
