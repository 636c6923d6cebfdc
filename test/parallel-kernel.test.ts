/**
 * %%parallel in a real kernel, with the lecture's cases: the scalar race (warning, values that
 * vary), the correct reduction, the silently wrong array reduction (our extra warning), the
 * prange Simpson integrator at 1, 2 and 4 threads, 1D diffusion equal to a serial run bit for
 * bit, and an interrupt during a long loop after which the team works again.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useKernelSession } from './helpers/kernel-session.js';
import { delay } from './helpers/wait.js';

const threadsOf = (pid: number) => readdirSync(`/proc/${pid}/task`).length;

describe('%%parallel in the kernel', () => {
  const k = useKernelSession();

  it('warns about the scalar race, and its results vary between runs', async () => {
    const def = await k.run('%%parallel -n 2\nfunction assign(n: number) {\n  let val = -1;\n  for (const i of prange(n)) {\n    val = i;\n  }\n  return val;\n}');
    expect(def.status).toBe('ok');
    expect(def.stderr).toMatch(/^line 5: ParallelSafetyWarning: variable 'val' used in the prange loop on line 4/);
    // Real threads race: over enough runs the last writer is not always the last iteration.
    // The threads must really overlap; on a busy machine that can take many runs, so the cell
    // tries for up to 20 s (and longer loops than the lecture's, to overlap more often).
    const r = await k.run('const seen = new Set<number>();\nconst t0 = Date.now();\nwhile (Date.now() - t0 < 20_000 && seen.size < 2) seen.add(assign(16 * 64 * 64 * 16));\n[...seen]');
    const values = JSON.parse(r.result!.replace(/\s+/g, '')) as number[];
    expect(values.length).toBeGreaterThan(1);
    for (const v of values) expect(v).toBeGreaterThanOrEqual(0);
  });

  it('reduces `tot += i` exactly on every run', async () => {
    await k.run('%%parallel -n 2\nfunction add(n: number) {\n  let tot = 0;\n  for (const i of prange(n)) {\n    tot += i;\n  }\n  return tot;\n}');
    const r = await k.run('const n = 16 * 64 * 64;\n[...Array(20)].every(() => add(n) === n * (n - 1) / 2)');
    expect(r.result).toBe('true');
  });

  it('warns about `tot[0] += i` on a shared array, whose sums are wrong and vary', async () => {
    const def = await k.run('%%parallel -n 2\nfunction addArray(n: number) {\n  const tot = shared(Float64Array, 1);\n  for (const i of prange(n)) {\n    tot[0] = tot[0] + i;\n  }\n  return tot[0];\n}');
    expect(def.stderr).toMatch(/line 5: ParallelSafetyWarning: tot\[0\] is written at an index that does not depend on the loop variable 'i'/);
    const r = await k.run('const m = 16 * 64 * 64 * 16, exact = m * (m - 1) / 2;\nconst sums = new Set<number>();\nconst s0 = Date.now();\nwhile (Date.now() - s0 < 20_000 && sums.size < 3) sums.add(addArray(m));\n[...sums].map((s) => s === exact)');
    const verdicts = JSON.parse(r.result!.replace(/\s+/g, '').replace(/'/g, '"')) as boolean[];
    expect(verdicts.length).toBeGreaterThan(1);
    expect(verdicts).toContain(false);
  });

  it.each([1, 2, 4])('integrates exp on [0, 1] to e - 1 within 1e-12 with %i threads', async (threads) => {
    await k.run(`%%parallel -n ${threads}\nfunction integrateExp${threads}(x0: number, x1: number, dx: number) {\n  let n = Math.floor((x1 - x0) / dx);\n  n = n + ((n & 1) ^ 1);\n  dx = (x1 - x0) / (n - 1);\n  let tot = 0.0;\n  for (const i of prange(1, n - 1)) {\n    tot = tot + (2 + 2 * (i & 1)) * Math.exp(x0 + i * dx);\n  }\n  tot = tot + Math.exp(x0) + Math.exp(x1);\n  return dx * tot / 3;\n}`);
    const r = await k.run(`Math.abs(integrateExp${threads}(0, 1, 1e-5) - (Math.E - 1))`);
    expect(Number(r.result)).toBeLessThan(1e-12);
  });

  it('runs 1D diffusion equal to a serial implementation, bit for bit', async () => {
    await k.run('%%parallel -n 2\nfunction diffuse(C: Float64Array, steps: number, alpha: number) {\n  let a = shared.from(C), b = shared(Float64Array, C.length);\n  for (let j = 0; j < steps; j++) {\n    for (const i of prange(1, a.length - 1)) {\n      b[i] = a[i] + alpha * (a[i + 1] - 2 * a[i] + a[i - 1]);\n    }\n    [a, b] = [b, a];\n  }\n  return a;\n}');
    const r = await k.run(`function diffuseSerial(C: Float64Array, steps: number, alpha: number) {
  let a = Float64Array.from(C), b = new Float64Array(C.length);
  for (let j = 0; j < steps; j++) {
    for (let i = 1; i < a.length - 1; i++) b[i] = a[i] + alpha * (a[i + 1] - 2 * a[i] + a[i - 1]);
    [a, b] = [b, a];
  }
  return a;
}
const N = 100_001;
const C0 = Float64Array.from({ length: N }, (_, i) => { const x = i / (N - 1); return Math.exp(-0.5 * ((x - 0.5) / 0.25) ** 2) / (0.25 * Math.sqrt(2 * Math.PI)); });
const p = diffuse(C0, 10, 0.49), s = diffuseSerial(C0, 10, 0.49);
p.length === s.length && p.every((v, i) => Object.is(v, s[i])) && s[N >> 1] !== C0[N >> 1]`);
    expect(r.result).toBe('true');
  });

  it('stops a long prange on interrupt, keeps the kernel, and the team works again', async () => {
    await k.run('%%parallel -n 2\nfunction spin(n: number) {\n  let acc = 0;\n  for (const i of prange(n)) {\n    for (let j = 0; j < 1e6; j++) acc += Math.sqrt(i + j);\n  }\n  return acc;\n}');
    const pending = k.start('spin(1e7)');
    await delay(1500);
    await k.kernel.client.interrupt();
    const r = await pending;
    expect(r.error?.ename).toBe('KeyboardInterrupt');
    const again = await k.run('add(1000)');
    expect(again.result).toBe('499500');
    const threads = threadsOf(k.pid);
    await k.run('add(1000)');
    expect(threadsOf(k.pid)).toBe(threads); // the team is reused, not re-created per call
  });
});
