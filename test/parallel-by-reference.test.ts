/**
 * Typed arrays reach a %%parallel loop by reference, as in Numba: an ordinary Float64Array
 * passed to a parallel function, captured by it, or made in an earlier cell sees the loop's
 * writes in the caller's own array (the runtime copies it through shared memory and back).
 * Also a 2D row-major stencil, and two views of one buffer, which stay aliased.
 */
import { describe, expect, it } from 'vitest';
import { useKernelSession } from './helpers/kernel-session.js';

describe('%%parallel: typed arrays by reference', () => {
  const k = useKernelSession();

  it('writes through to a plain array passed to a parallel function', async () => {
    const def = await k.run('%%parallel -n 2\nfunction fill(A: Float64Array) {\n  for (const i of prange(A.length)) {\n    A[i] = 2 * i + 1;\n  }\n}');
    expect(def.status).toBe('ok');
    const r = await k.run('const A = new Float64Array(100_000);\nfill(A);\n[A[3], A[99_999], A.buffer instanceof SharedArrayBuffer]');
    expect(r.stderr).toMatch(/note: 'A' is not in shared memory, so the prange loop on line 3 copies it in and out on every run \(781\.3 KiB each way\)/);
    expect(r.result?.replace(/\s+/g, '')).toBe('[7,199999,false]');
    // Again, with the main thread's own changes in between: the loop starts from them.
    const again = await k.run('A[5] = -1;\nfor (let i = 0; i < 10; i++) A[i] += 0;\nfill(A);\nconst B = A;\n[B[5], A.every((v, i) => v === 2 * i + 1)]');
    expect(again.result?.replace(/\s+/g, '')).toBe('[11,true]');
  });

  it('writes through to a plain array captured from an earlier cell, read and written', async () => {
    await k.run('const xs = new Float64Array(50_001).fill(1);\nconst ys = new Int32Array(50_001);');
    const r = await k.run('%%parallel -n 2\nfor (const i of prange(xs.length)) {\n  xs[i] = xs[i] + i;\n  ys[i] = i % 7;\n}\n[xs[0], xs[3], xs[50_000], ys[13]]');
    expect(r.status).toBe('ok');
    expect(r.result?.replace(/\s+/g, '')).toBe('[1,4,50001,6]');
  });

  it('writes through to a captured array that a function closes over', async () => {
    const r = await k.run('%%parallel -n 2\nconst grid = new Float64Array(1000);\nfunction scale(c: number) {\n  for (const i of prange(grid.length)) grid[i] = c * i;\n}\nscale(3);\n[grid[10], grid[999]]');
    expect(r.result?.replace(/\s+/g, '')).toBe('[30,2997]');
  });

  it('runs a 2D row-major stencil over plain arrays, equal to a serial run', async () => {
    await k.run(`%%parallel -n 2
function step2d(u: Float64Array, out: Float64Array, nx: number, ny: number, a: number) {
  for (const i of prange(1, nx - 1)) {
    for (let j = 1; j < ny - 1; j++) {
      const c = i * ny + j;
      out[c] = u[c] + a * (u[c - ny] + u[c + ny] + u[c - 1] + u[c + 1] - 4 * u[c]);
    }
  }
}`);
    const r = await k.run(`const nx = 64, ny = 48;
let u = Float64Array.from({ length: nx * ny }, (_, c) => Math.sin(c)), v = new Float64Array(nx * ny);
let su = Float64Array.from(u), sv = new Float64Array(nx * ny);
for (let t = 0; t < 5; t++) {
  step2d(u, v, nx, ny, 0.2);
  [u, v] = [v, u];
  for (let i = 1; i < nx - 1; i++) for (let j = 1; j < ny - 1; j++) {
    const c = i * ny + j;
    sv[c] = su[c] + 0.2 * (su[c - ny] + su[c + ny] + su[c - 1] + su[c + 1] - 4 * su[c]);
  }
  [su, sv] = [sv, su];
}
[u.every((x, c) => Object.is(x, su[c])), u[ny + 1] !== Math.sin(ny + 1)]`);
    expect(r.result?.replace(/\s+/g, '')).toBe('[true,true]');
  });

  it('keeps two views of one buffer aliased inside the loop', async () => {
    const r = await k.run(`%%parallel -n 2
const buf = new Float64Array(2000);
const lo = buf.subarray(0, 1000), hi = buf.subarray(1000);
for (const i of prange(1000)) {
  lo[i] = i;
  hi[i] = -i;
}
[buf[999], buf[1001]]`);
    expect(r.result?.replace(/\s+/g, '')).toBe('[999,-1]');
  });

  it('sees writes made before an error in the loop', async () => {
    const r = await k.run('%%parallel -n 2\nconst part = new Float64Array(10);\ntry {\n  for (const i of prange(10)) {\n    part[i] = 1;\n    if (i === 9) throw new Error("boom");\n  }\n} catch {}\npart[0] + part[4]');
    expect(r.result).toBe('2');
  });
});
