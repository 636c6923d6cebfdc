/**
 * Array reductions through the kernel: `prange(…).reduction('+', h)` makes a histogram exact
 * (per-thread copies combined after the loop, like OpenMP's reduction(+: h[:n])), while the same
 * loop without the clause still races and its warning points at the clause. Bad clauses are
 * compile errors naming the fix; a clause on something that is not a typed array fails at run
 * time with one line; the kernel goes on.
 */
import { describe, expect, it } from 'vitest';
import { useKernelSession } from './helpers/kernel-session.js';

const histogram = (name: string, clause: string) =>
  `%%parallel -n 2
function ${name}(xs: Float64Array, bins: number) {
  const h = new Float64Array(bins);
  for (const i of prange(xs.length)${clause}) {
    h[Math.floor(xs[i] * bins)] += 1;
  }
  return h;
}`;

describe('%%parallel: array reductions', () => {
  const k = useKernelSession();

  it('makes a histogram exact with prange(…).reduction("+", h), run after run', async () => {
    const def = await k.run(histogram('histogram', ".reduction('+', h)"));
    expect(def.status).toBe('ok');
    expect(def.stderr).toBe('');
    const r = await k.run(`const xs = Float64Array.from({ length: 1 << 20 }, (_, i) => ((i * 0.6180339887) % 1));
const serial = new Float64Array(8);
for (const x of xs) serial[Math.floor(x * 8)] += 1;
[...Array(10)].every(() => { const h = histogram(xs, 8); return h.every((v, j) => v === serial[j]); })`);
    expect(r.result).toBe('true');
  });

  it('still races without the clause (the lecture\'s bad reduction), and the warning points at the clause', async () => {
    const def = await k.run(histogram('racyHistogram', ''));
    expect(def.stderr).toMatch(/line 5: ParallelSafetyWarning: h\[Math\.floor\(xs\[i\] \* bins\)\] is updated in place at a computed index, which several iterations may share/);
    expect(def.stderr).toContain("Declare the array a reduction, prange(…).reduction('+', h)");
    const r = await k.run(`const total = xs.length;
const totals = new Set<number>();
const t0 = Date.now();
while (Date.now() - t0 < 20_000 && ![...totals].some((t) => t !== total)) totals.add(racyHistogram(xs, 2).reduce((a, b) => a + b, 0));
[...totals].some((t) => t < total)`);
    expect(r.result).toBe('true');
  });

  it('reduces with max into an Int32Array, combined with the values before the loop', async () => {
    const r = await k.run(`%%parallel -n 2
const top = new Int32Array([1000, -100, 0]);
for (const i of prange(3000).reduction('max', top)) {
  top[i % 3] = Math.max(top[i % 3], i % 1000 - 500);
}
Array.from(top)`);
    expect(r.status).toBe('ok');
    expect(r.result?.replace(/\s+/g, '')).toBe('[1000,499,499]');
  });

  it('reduces into a shared array and into two arrays at once, several clauses chained', async () => {
    const r = await k.run(`%%parallel -n 2
const counts = shared(Int32Array, 4), sums = new Float64Array(4), prods = new Float64Array(2).fill(1);
for (const i of prange(1000).reduction('+', counts, sums).reduction('*', prods)) {
  counts[i & 3] += 1;
  sums[i & 3] += i;
  prods[i & 1] *= 1.001;
}
[Array.from(counts), sums[0] + sums[1] + sums[2] + sums[3], Math.abs(prods[0] - 1.001 ** 500) < 1e-9]`);
    expect(r.result?.replace(/\s+/g, '')).toBe('[[250,250,250,250],499500,true]');
  });

  it('refuses malformed clauses at compile time, with the fix', async () => {
    const bad = await k.run('%%parallel -n 2\nconst hh = new Float64Array(4);\nconst op = "+";\nfor (const i of prange(4).reduction(op, hh)) hh[i & 1] += 1;');
    expect(bad.error?.ename).toBe('ParallelCompileError');
    expect(bad.error?.evalue).toMatch(/line 4: the reduction's operator must be a string: '\+', '\*', 'max' or 'min'; write the clause as prange\(…\)\.reduction\(op, a, b, …\)/);
    const unused = await k.run('%%parallel -n 2\nconst hh = new Float64Array(4);\nconst other = new Float64Array(4);\nfor (const i of prange(4).reduction("+", other)) hh[i] = 1;');
    expect(unused.error?.evalue).toMatch(/line 4: the loop body does not use 'other'/);
    const scalar = await k.run('%%parallel -n 2\nlet s = 0;\nfor (const i of prange(4).reduction("+", s as any)) s += i;');
    expect(scalar.error?.ename).toBe('ParallelCompileError');
  });

  it('fails at run time in one line when the clause names something that is not a typed array', async () => {
    const r = await k.run('%%parallel -n 2\nconst plain: any = JSON.parse("[0, 0]");\nfor (const i of prange(4).reduction("+", plain)) plain[i & 1] += 1;');
    expect(r.error?.evalue).toBe(
      'prange(…).reduction(op, …): argument 1 is an array, but array reductions need a typed array (Float64Array, Int32Array, …); a number updated with += is a reduction without a clause.',
    );
    const after = await k.run('histogram(xs, 4)[0]');
    expect(after.result).toBe(String(xs4()));
  });

  it('runs serially outside %%parallel, updating the array in place', async () => {
    const r = await k.run('const hs = new Float64Array(2);\nfor (const i of prange(10).reduction("+", hs)) hs[i & 1] += 1;\nArray.from(hs)');
    expect(r.result?.replace(/\s+/g, '')).toBe('[5,5]');
  });
});

/** How many of the test's xs fall into the first of 4 bins (computed the same way as the cell). */
function xs4(): number {
  let n = 0;
  for (let i = 0; i < 1 << 20; i++) if (Math.floor(((i * 0.6180339887) % 1) * 4) === 0) n++;
  return n;
}
