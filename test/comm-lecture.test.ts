/**
 * The lectures' MPI programs on every transport: Simpson integration of exp on [0, 1], each
 * rank its piece, reduced by hand (send/recv) and with allreduce; and the 2D diffusion solver
 * (FTCS, split along x with halo rows, Irecv/Send/Waitall halo exchange, Gather to rank 0),
 * which must equal a serial run bit for bit.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { expectNoLeaks, resources, type Resources } from './fixtures/comm/leaks.js';

type Comm = Parameters<RankFunction>[0];

/** The lecture's MPI body: split [0, 1] with linspace, integrate the piece (dx = 0.001, n odd), reduce. */
async function simpsonRank(comm: Comm, rank: number, size: number, data: { manual: boolean }) {
  const integrate = (x0: number, x1: number, dx: number, f: (x: number) => number) => {
    let n = Math.trunc((x1 - x0) / dx);
    n = n + ((n & 1) ^ 1);
    const h = (x1 - x0) / (n - 1);
    let tot = f(x0) + f(x1);
    for (let i = 1; i < n - 1; i++) tot += (2 + 2 * (i & 1)) * f(x0 + i * h);
    return (tot * h) / 3;
  };
  const x = Array.from({ length: size + 1 }, (_, i) => (i === size ? 1 : 0 + (i * (1 - 0)) / size));
  const myans = integrate(x[rank]!, x[rank + 1]!, 0.001, Math.exp);
  if (!data.manual) return comm.allreduce(myans);
  if (rank === 0) {
    let ans = myans;
    for (let i = 1; i < size; i++) ans += await comm.recv<number>(i);
    return ans;
  }
  await comm.send(myans, 0);
  return undefined;
}

interface DiffusionData {
  readonly Nx: number;
  readonly Ny: number;
  readonly Nt: number;
}

/** The lecture's parallel 2D diffusion solver (C is row-major: rows along x, Ny columns). */
async function diffusionRank(comm: Comm, rank: number, size: number, { Nx, Ny, Nt }: DiffusionData) {
  const { Request } = require('tslab-parallel');
  const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + (i * (b - a)) / (n - 1)));
  const xc = linspace(0, 2, Nx);
  const yc = linspace(0, 1, Ny);
  const dx = xc[1]! - xc[0]!;
  const D = 0.0009;
  const dt = 0.001;
  const cells = Nx / size;
  // Local rows with halos: first rank [0, cells], last [r*cells-1, Nx), others [r*cells-1, (r+1)*cells].
  const first = size === 1 || rank === 0 ? 0 : rank * cells - 1;
  const end = size === 1 ? Nx : rank === size - 1 ? Nx : (rank + 1) * cells + 1;
  const rows = end - first;
  let C = new Float64Array(rows * Ny);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < Ny; j++) {
      const gx = xc[first + i]!;
      const gy = yc[j]!;
      C[i * Ny + j] = Math.exp(-((gx - 1.0) ** 2) / (2 * 0.05 ** 2) - (gy - 0.5) ** 2 / (2 * 0.05 ** 2));
    }
  }
  const C0 = C.slice();
  let Cn = C.slice();
  const alpha = (D * dt) / dx ** 2;
  const row = (A: Float64Array, i: number) => A.subarray(i * Ny, (i + 1) * Ny);
  for (let t = 0; t < Nt; t++) {
    for (let i = 1; i < rows - 1; i++) {
      for (let j = 1; j < Ny - 1; j++) {
        const k = i * Ny + j;
        Cn[k] = C[k]! + alpha * (C[k + Ny]! + C[k - Ny]! + C[k + 1]! + C[k - 1]! - 4 * C[k]!);
      }
    }
    [C, Cn] = [Cn, C];
    if (size > 1) {
      const reqs = [];
      if (rank > 0) reqs.push(comm.Irecv(row(C, 0), rank - 1));
      if (rank < size - 1) reqs.push(comm.Irecv(row(C, rows - 1), rank + 1));
      if (rank > 0) await comm.Send(row(C, 1), rank - 1);
      if (rank < size - 1) await comm.Send(row(C, rows - 2), rank + 1);
      await Request.waitall(reqs);
    }
  }
  const own = (A: Float64Array) => (size === 1 ? A : A.subarray((rank === 0 ? 0 : 1) * Ny, ((rank === 0 ? 0 : 1) + cells) * Ny));
  const C_global = rank === 0 ? new Float64Array(Nx * Ny) : null;
  const C0_global = rank === 0 ? new Float64Array(Nx * Ny) : null;
  await comm.Gather(own(C), C_global, 0);
  await comm.Gather(own(C0), C0_global, 0);
  return rank === 0 ? { C: C_global, C0: C0_global } : null;
}

/** The same computation on one array, in this process: the reference. */
function serialDiffusion({ Nx, Ny, Nt }: DiffusionData): Float64Array {
  const linspace = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + (i * (b - a)) / (n - 1)));
  const xc = linspace(0, 2, Nx);
  const yc = linspace(0, 1, Ny);
  const dx = xc[1]! - xc[0]!;
  let C = new Float64Array(Nx * Ny);
  for (let i = 0; i < Nx; i++) {
    for (let j = 0; j < Ny; j++) {
      C[i * Ny + j] = Math.exp(-((xc[i]! - 1.0) ** 2) / (2 * 0.05 ** 2) - (yc[j]! - 0.5) ** 2 / (2 * 0.05 ** 2));
    }
  }
  let Cn = C.slice();
  const alpha = (0.0009 * 0.001) / dx ** 2;
  for (let t = 0; t < Nt; t++) {
    for (let i = 1; i < Nx - 1; i++) {
      for (let j = 1; j < Ny - 1; j++) {
        const k = i * Ny + j;
        Cn[k] = C[k]! + alpha * (C[k + Ny]! + C[k - Ny]! + C[k + 1]! + C[k - 1]! - 4 * C[k]!);
      }
    }
    [C, Cn] = [Cn, C];
  }
  return C;
}

const sameBits = (a: Float64Array, b: Float64Array) => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe.each(backends)('%s', (backend: Backend) => {
  let before: Resources;
  beforeAll(async () => {
    await runRanks({ np: 2, backend, code: async (comm) => comm.barrier(), onOutput: () => {} });
    before = resources();
  });
  afterEach(async () => expectNoLeaks(before));

  it.each([1, 2, 3, 4])('Simpson integration of exp on [0, 1] equals e - 1 at np %i, by hand and with allreduce', async (np) => {
    const manual = await runRanks<number | undefined>({ np, backend, code: simpsonRank as RankFunction, data: { manual: true }, onOutput: () => {} });
    const all = await runRanks<number>({ np, backend, code: simpsonRank as RankFunction, data: { manual: false }, onOutput: () => {} });
    expect(Math.abs(manual[0]! - (Math.E - 1))).toBeLessThan(1e-10);
    expect(manual.slice(1).every((v) => v === undefined)).toBe(true);
    for (const v of all) expect(v).toBe(all[0]); // every rank gets the same bits
    expect(Math.abs(all[0]! - (Math.E - 1))).toBeLessThan(1e-10);
  });

  const grid: DiffusionData = { Nx: 256, Ny: 128, Nt: 100 };
  const serial = serialDiffusion(grid);

  it.each([1, 2, 4])('2D diffusion with halo exchange and Gather equals the serial run bit for bit at np %i', async (np) => {
    const [out] = await runRanks<{ C: Float64Array; C0: Float64Array } | null>({
      np,
      backend,
      code: diffusionRank as RankFunction,
      data: grid,
      onOutput: () => {},
    });
    expect(out!.C.length).toBe(grid.Nx * grid.Ny);
    expect(sameBits(out!.C, serial)).toBe(true);
    expect(sameBits(out!.C0, serialDiffusion({ ...grid, Nt: 0 }))).toBe(true);
    expect(sameBits(out!.C, out!.C0)).toBe(false); // it did diffuse
  });
});
