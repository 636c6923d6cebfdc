/**
 * The Open MPI transport's Allreduce of a few values on power-of-two communicators (the addon's
 * allreduceSmall: recursive doubling over point-to-point, spun on in C; every element type and
 * op against the threads backend is in comm-mpi-transport.test.ts): the same results on a split
 * communicator, above its limit and on a size that is no power of two (both go to
 * MPI_Iallreduce); the same bits on every rank even for MAX over NaN; a late rank (the
 * reduction then finishes through progress, after the C spin); and reductions in flight
 * together, finished in the other order.
 */
import { describe, expect, it } from 'vitest';
import { runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { mpiUnavailable } from './fixtures/comm/backends.js';

type Comm = Parameters<RankFunction>[0];

const run = <R>(np: number, backend: 'mpi' | 'threads', code: (comm: Comm, rank: number, size: number) => Promise<R>) =>
  runRanks<R>({ np, backend, code: code as RankFunction, onOutput: () => {}, timeout: 60 });

describe.skipIf(mpiUnavailable)('mpi Allreduce of a few values', () => {
  it('equals the threads backend on a split communicator, above its limit and at np 3', async () => {
    const code = async (comm: Comm, rank: number) => {
      const half = await comm.split(rank % 2, rank);
      const pair = new Float64Array(3);
      await half!.Allreduce(new Float64Array([rank, 0.5, -rank]), pair, 'SUM');
      const large = new Float64Array(1000); // 8000 bytes: above allreduceSmall's 4096
      await comm.Allreduce(new Float64Array(1000).fill(rank + 0.25), large, 'SUM');
      const ints = new Int32Array(2);
      await comm.Allreduce(new Int32Array([rank, -rank]), ints, 'MIN');
      return { pair: [...pair], large: [large[0], large[999]], ints: [...ints] };
    };
    for (const np of [2, 4, 3]) {
      const mpi = await run(np, 'mpi', code);
      expect(mpi).toEqual(await run(np, 'threads', code));
      expect(mpi[0]!.large).toEqual([np * 0.25 + (np * (np - 1)) / 2, np * 0.25 + (np * (np - 1)) / 2]);
    }
  });

  it('gives every rank the same bits, waits for a late rank, and keeps reductions in flight apart', async () => {
    const got = await run(4, 'mpi', async (comm, rank) => {
      const { Request } = require('tslab-parallel');
      // MAX is not commutative over NaN in C (a > b ? a : b): every rank must still agree.
      const nan = new Float64Array(2);
      await comm.Allreduce(new Float64Array([rank === 2 ? NaN : rank, rank === 1 ? NaN : -rank]), nan, 'MAX');
      // Sums whose value depends on the order of the additions: equal on all ranks all the same.
      const order = new Float64Array(1);
      await comm.Allreduce(new Float64Array([[1e16, 1, -1e16, 1][rank]!]), order, 'SUM');
      if (rank === 1) await new Promise((r) => setTimeout(r, 50)); // far beyond the spin
      const late = new Float64Array(1);
      const t0 = performance.now();
      await comm.Allreduce(new Float64Array([rank + 1]), late, 'SUM');
      const waited = performance.now() - t0;
      const a = new Float64Array(1);
      const b = new Float64Array(1);
      const ra = comm.Iallreduce(new Float64Array([rank]), a, 'SUM');
      const rb = comm.Iallreduce(new Float64Array([100 * rank]), b, 'MAX');
      await rb.wait();
      await ra.wait();
      let bad = 0;
      for (let i = 0; i < 2000; i++) {
        const s = new Int32Array(1);
        await comm.Allreduce(new Int32Array([i + rank]), s, 'SUM');
        if (s[0] !== 4 * i + 6) bad++;
      }
      void Request;
      return { nan: [...nan].map(String), order: order[0], late: late[0], waitedLong: rank === 1 || waited > 20, a: a[0], b: b[0], bad };
    });
    for (const r of got) expect(r).toEqual({ ...got[0], waitedLong: true });
    expect(got[0]).toMatchObject({ late: 10, a: 6, b: 300, bad: 0 });
    expect(got[0]!.nan).toHaveLength(2);
  });
});
