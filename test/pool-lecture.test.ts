/**
 * The lecture's pool examples ("Pool Example" and its two outputs, "Aside - partial",
 * "Parallel Integrator with Pool V1/V2"), written as notebook cells, on both backends.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool, partial } from '../dist/src/pool/index.js';
import { NotebookFixture } from './fixtures/ship/notebook-fixture.js';
import { backends, distPool, outputCollector } from './fixtures/pool/helpers.js';

const cwd = path.join(__dirname, 'fixtures', 'pool');

/** The lecture's cells, in TypeScript. */
function lectureNotebook(): NotebookFixture {
  const nb = new NotebookFixture(cwd);
  nb.run(`import { partial, workerId } from ${JSON.stringify(distPool)};`);
  nb.run(`
async function square(x: number) {
  const pid = process.pid;
  console.log('process', pid, 'is working on', x);
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { square: x * x, worker: workerId(), pid };
}
function squareNow(x: number) {
  return { square: x * x, worker: workerId(), pid: process.pid };
}`);
  nb.run(`
function linspace(a: number, b: number, n: number): Float64Array {
  const x = new Float64Array(n);
  const step = (b - a) / (n - 1);
  for (let i = 0; i < n; i++) x[i] = a + i * step;
  x[n - 1] = b;
  return x;
}
// V1: the worker computes its own range from its id.
function integrateV1(id: number, fun: (x: number) => number, range: number[], dx: number, nproc: number) {
  const edges = linspace(range[0]!, range[1]!, nproc + 1);
  const xmin = edges[id]!, xmax = edges[id + 1]!;
  console.log('I am', id, 'out of', nproc, 'with range', xmin, xmax);
  let nx = Math.ceil((xmax - xmin) / dx);
  if (nx % 2 === 0) nx = nx + 1;
  const x = linspace(xmin, xmax, nx);
  const y = x.map(fun);
  const mydx = x[1]! - x[0]!;
  let odd = 0, even = 0;
  for (let i = 1; i < nx - 1; i += 2) odd += y[i]!;
  for (let i = 2; i < nx - 1; i += 2) even += y[i]!;
  return (mydx * (y[0]! + y[nx - 1]! + 4 * odd + 2 * even)) / 3;
}
// V2: limits pre-split by the caller.
function integrateV2(lims: number[], fun: (x: number) => number, dx: number) {
  const x1 = lims[0]!, x2 = lims[1]!;
  let n = Math.ceil((x2 - x1) / dx);
  if ((n & 1) === 0) n = n + 1;
  const x = linspace(x1, x2, n);
  const h = x[1]! - x[0]!;
  let odd = 0, even = 0;
  for (let i = 1; i < n - 1; i += 2) odd += fun(x[i]!);
  for (let i = 2; i < n - 1; i += 2) even += fun(x[i]!);
  return (h * (fun(x[0]!) + fun(x[n - 1]!) + 4 * odd + 2 * even)) / 3;
}
function gauss(x: number, x0: number, sigma: number) {
  return Math.exp((-0.5 * (x - x0) ** 2) / sigma ** 2);
}`);
  return nb;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const E1 = Math.E - 1;

type Square = { square: number; worker: number; pid: number };
type Integrate1 = (id: number, fun: (x: number) => number, range: number[], dx: number, nproc: number) => number;
type Integrate2 = (lims: number[], fun: (x: number) => number, dx: number) => number;

describe.each(backends)('lecture examples, %s', (backend) => {
  const nb = lectureNotebook();
  const out = outputCollector();
  let pool: Pool;
  beforeAll(async () => {
    pool = new Pool({ workers: 4, backend, definitions: nb, onOutput: out.onOutput });
    await pool.ready();
  });
  afterAll(() => pool.close());

  it('Pool Example: squares with a sleep, each input once, in order, on several workers', async () => {
    out.lines.length = 0;
    const nthread = 4;
    const n = 4 * nthread;
    const vec = (await pool.map(nb.exports.square as (x: number) => Promise<Square>, range(n + 1))) as Square[];
    expect(vec.map((v) => v.square)).toEqual(range(n + 1).map((x) => x * x));
    expect(sum(vec.map((v) => v.square))).toBe((n * (n + 1) * (2 * n + 1)) / 6);
    const workers = new Set(vec.map((v) => v.worker));
    expect(workers.size).toBeGreaterThan(1);
    for (const w of workers) expect([1, 2, 3, 4]).toContain(w);
    // Each worker has one pid: the pool's own for threads, its own process for processes.
    const pidOf = new Map(vec.map((v) => [v.worker, v.pid]));
    for (const v of vec) expect(v.pid).toBe(pidOf.get(v.worker));
    if (backend === 'threads') expect(new Set(pidOf.values())).toEqual(new Set([process.pid]));
    else {
      expect(new Set(pidOf.values()).size).toBe(workers.size);
      expect([...pidOf.values()]).not.toContain(process.pid);
    }
    // "process 85576 is working on 0", prefixed with the worker that printed it.
    for (const v of vec) {
      const x = Math.sqrt(v.square);
      expect(out.lines).toContain(`[worker ${v.worker}] process ${v.pid} is working on ${x}`);
    }
  });

  it('Pool Example Output 2: without the sleep every input still runs once, and we can see who ran what', async () => {
    const vec = (await pool.map(nb.exports.squareNow as (x: number) => Square, range(9))) as Square[];
    expect(vec.map((v) => v.square)).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64]);
    const ranBy = new Map<number, number[]>();
    vec.forEach((v, x) => ranBy.set(v.worker, [...(ranBy.get(v.worker) ?? []), x]));
    // Which worker ran what depends on timing (the lecture's point); it is a partition of the inputs.
    expect([...ranBy.values()].flat().sort((a, b) => a - b)).toEqual(range(9));
    console.log(`[${backend}] without sleep, inputs per worker:`, Object.fromEntries(ranBy));
  });

  it('Aside - partial: by name (gauss, {x0, sigma}) and by position give the plain call’s value', async () => {
    const gauss = nb.exports.gauss as (x: number, x0: number, sigma: number) => number;
    const myfun = partial(gauss, { x0: 0.5, sigma: 2.0 });
    expect(myfun(1.5)).toBe(gauss(1.5, 0.5, 2.0));
    expect(myfun(1.5)).toBeCloseTo(0.8824969025845955, 15);
    const byName = await pool.map(myfun, [1.5, 0.5]);
    expect(byName).toEqual([gauss(1.5, 0.5, 2.0), 1]);
    const shifted = partial(gauss, 1.5, 0.5);
    expect(await pool.map(shifted, [2.0, 1.0])).toEqual([gauss(1.5, 0.5, 2.0), gauss(1.5, 0.5, 1.0)]);
  });

  it('Parallel Integrator V1 (nproc=4, dx=1/256): Simpson’s own error, 2.2e-12, not within 1e-12 of e-1', async () => {
    const integrate = nb.exports.integrateV1 as Integrate1;
    const nproc = 4;
    const dx = 1 / 256;
    const out1 = await pool.map(partial(integrate, { fun: Math.exp, range: [0, 1], dx, nproc }), range(nproc));
    const total = sum(out1);
    // The pool changes nothing in the arithmetic: same pieces, summed in input order.
    expect(total).toBe(sum(range(nproc).map((id) => integrate(id, Math.exp, [0, 1], dx, nproc))));
    // Each piece has 64 intervals of exactly dx: composite Simpson's leading error h^4/180 · ∫f'''' = dx^4/180 · (e-1).
    const simpsonError = (dx ** 4 / 180) * E1;
    expect(Math.abs(total - E1 - simpsonError)).toBeLessThan(1e-14);
    expect(total - E1).toBeGreaterThan(1e-12);
    // "Would I get identical answer with different # of procs?" No: nproc=3 gives pieces of 86 intervals (h = 1/258).
    const out3 = await pool.map(partial(integrate, { fun: Math.exp, range: [0, 1], dx, nproc: 3 }), range(3));
    expect(sum(out3)).not.toBe(total);
    expect(Math.abs(sum(out3) - E1)).toBeLessThan(simpsonError);
  });

  it('Parallel Integrator V2 (8 pieces, dx=0.001): within 1e-12 of e-1, independent of the pool size', async () => {
    const integrate = nb.exports.integrateV2 as Integrate2;
    const nthread = 8;
    const x = range(nthread + 1).map((i) => i / nthread);
    const lims = range(nthread).map((i) => [x[i]!, x[i + 1]!]);
    const myIntegrate = partial(integrate, { fun: Math.exp, dx: 0.001 });
    const total = sum(await pool.map(myIntegrate, lims));
    expect(Math.abs(total - (Math.exp(x[nthread]!) - Math.exp(x[0]!)))).toBeLessThan(1e-12);
    // The same pieces on two workers, or serially, give the same bits: the sum is taken in input order.
    const small = new Pool({ workers: 2, backend, definitions: nb, onOutput: () => undefined });
    try {
      expect(sum(await small.map(myIntegrate, lims))).toBe(total);
    } finally {
      await small.close();
    }
    expect(sum(lims.map((l) => integrate(l, Math.exp, 0.001)))).toBe(total);
  });
});
