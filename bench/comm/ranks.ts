/**
 * What the benchmark's ranks run. Each function is sent to the ranks as source text, so it
 * must use only its arguments and globals.
 */
import type { RankFunction } from '../../src/comm/index.js';

type Comm = Parameters<RankFunction>[0];

export interface PingPongData {
  readonly bytes: number;
  readonly iters: number;
  readonly batches: number;
  /** Untimed round trips first (see warmupTrips in index.ts). */
  readonly warmup: number;
}

/** Round trips of a `bytes`-long typed array between ranks 0 and 1: seconds per round trip, per batch. */
export async function pingPong(comm: Comm, rank: number, _size: number, { bytes, iters, batches, warmup }: PingPongData): Promise<number[]> {
  const buf = new Uint8Array(bytes);
  const trip = async (n: number) => {
    for (let i = 0; i < n; i++) {
      if (rank === 0) {
        await comm.Send(buf, 1, 0);
        await comm.Recv(buf, 1, 0);
      } else {
        await comm.Recv(buf, 0, 0);
        await comm.Send(buf, 0, 0);
      }
    }
  };
  await trip(warmup); // the JIT, the page faults of fresh buffers
  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    await comm.barrier();
    const t0 = performance.now();
    await trip(iters);
    times.push((performance.now() - t0) / 1000 / iters);
  }
  return times;
}

export interface AllreduceData {
  readonly iters: number;
  readonly batches: number;
  /** 'buffer': Allreduce on a Float64Array(1); 'object': allreduce of a number. */
  readonly kind: 'buffer' | 'object';
  /** Untimed calls first. */
  readonly warmup: number;
}

export async function allreduceOne(comm: Comm, rank: number, _size: number, { iters, batches, kind, warmup }: AllreduceData): Promise<number[]> {
  const send = new Float64Array([rank + 0.5]);
  const recv = new Float64Array(1);
  let x = rank + 0.5;
  const loop = async (n: number) => {
    if (kind === 'buffer') for (let i = 0; i < n; i++) await comm.Allreduce(send, recv);
    else for (let i = 0; i < n; i++) x = (await comm.allreduce(x)) * 0.5;
  };
  await loop(warmup);
  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    await comm.barrier();
    const t0 = performance.now();
    await loop(iters);
    times.push((performance.now() - t0) / 1000 / iters);
  }
  return times;
}

export interface DiffusionData {
  readonly Nx: number;
  readonly Ny: number;
  readonly Nt: number;
  /** false: no halo exchange, each rank only computes (the machine's ceiling for np ranks). */
  readonly exchange?: boolean;
  /**
   * Untimed steps before the timed Nt (default 0). A fresh world's first steps run while V8
   * still compiles the communicator's code on background threads; with as many ranks as cores,
   * those threads take a core from a rank that its partner then waits for.
   */
  readonly warmup?: number;
}

export interface DiffusionTimes {
  readonly seconds: number;
  readonly warmupSeconds: number;
}

/**
 * The lecture's 2D diffusion solver (FTCS, D = 0.0009, dt = 0.001, split along x with halo rows,
 * Irecv/Send/Waitall halo exchange), measured on rank 0 between barriers: seconds for the Nt
 * timed steps, and for the `warmup` steps before them.
 */
export async function diffusion(comm: Comm, rank: number, size: number, { Nx, Ny, Nt, exchange = true, warmup = 0 }: DiffusionData): Promise<DiffusionTimes> {
  const dx = 2 / (Nx - 1);
  const dy = 1 / (Ny - 1);
  const alpha = (0.0009 * 0.001) / (dx * dx);
  const cells = Nx / size;
  const first = rank === 0 ? 0 : rank * cells - 1;
  const end = rank === size - 1 ? Nx : (rank + 1) * cells + 1;
  const rows = end - first;
  let C = new Float64Array(rows * Ny);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < Ny; j++) {
      const x = (first + i) * dx;
      const y = j * dy;
      C[i * Ny + j] = Math.exp(-((x - 1) ** 2) / (2 * 0.05 ** 2) - (y - 0.5) ** 2 / (2 * 0.05 ** 2));
    }
  }
  let Cn = C.slice();
  const step = (A: Float64Array, B: Float64Array) => {
    for (let i = 1; i < rows - 1; i++) {
      const r = i * Ny;
      for (let k = r + 1; k < r + Ny - 1; k++) B[k] = A[k]! + alpha * (A[k + Ny]! + A[k - Ny]! + A[k + 1]! + A[k - 1]! - 4 * A[k]!);
    }
  };
  const reqs: { wait(): Promise<unknown> }[] = [];
  const steps = async (n: number) => {
    for (let t = 0; t < n; t++) {
      step(C, Cn);
      [C, Cn] = [Cn, C];
      if (size > 1 && exchange) {
        reqs.length = 0;
        if (rank > 0) reqs.push(comm.Irecv(C.subarray(0, Ny), rank - 1));
        if (rank < size - 1) reqs.push(comm.Irecv(C.subarray((rows - 1) * Ny), rank + 1));
        if (rank > 0) await comm.Send(C.subarray(Ny, 2 * Ny), rank - 1);
        if (rank < size - 1) await comm.Send(C.subarray((rows - 2) * Ny, (rows - 1) * Ny), rank + 1);
        for (const r of reqs) await r.wait();
      }
    }
  };
  await comm.barrier();
  const w0 = performance.now();
  await steps(warmup);
  await comm.barrier();
  const t0 = performance.now();
  await steps(Nt);
  await comm.barrier();
  return { seconds: (performance.now() - t0) / 1000, warmupSeconds: (t0 - w0) / 1000 };
}
