/**
 * What is particular to the Open MPI transport, checked against the threads transport running
 * the same rank code: typed-array collectives that go to MPI (every element type and built-in
 * op, IN_PLACE, on split communicators) and those that fall back to the comm layer's algorithms
 * (user ops, MAXLOC, Uint8ClampedArray, bitwise ops on floats); messages on both sides of the
 * inline limit and far above it, objects included; probe of a large message; and waits long
 * enough to be handed to the progress thread, which must wake them.
 */
import { describe, expect, it } from 'vitest';
import { runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { mpiUnavailable } from './fixtures/comm/backends.js';

type Comm = Parameters<RankFunction>[0];

const both = async <R>(np: number, code: (comm: Comm, rank: number, size: number) => Promise<R>) => {
  const run = (backend: 'mpi' | 'threads') => runRanks<R>({ np, backend, code: code as RankFunction, onOutput: () => {}, timeout: 60 });
  const mpi = await run('mpi');
  const threads = await run('threads');
  return { mpi, threads };
};

describe.skipIf(mpiUnavailable)('mpi transport', () => {
  // At np 2 and 4 a small Allreduce runs on the addon's recursive doubling, at np 3 on MPI_Iallreduce.
  it.each([2, 3, 4])('Allreduce of every element type and built-in op equals the threads backend (np %i)', async (np) => {
    const { mpi, threads } = await both(np, async (comm, rank) => {
      const { IN_PLACE } = require('tslab-parallel');
      const types = [Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array];
      const ops = ['SUM', 'PROD', 'MIN', 'MAX', 'LAND', 'LOR', 'BAND', 'BOR'];
      const out: Record<string, string> = {};
      for (const T of types) {
        const big = T === BigInt64Array || T === BigUint64Array;
        const v = (x: number) => (big ? BigInt(x) : x);
        for (const op of ops) {
          if ((op === 'BAND' || op === 'BOR') && (T === Float32Array || T === Float64Array)) continue; // JS's & on floats: fallback, below
          const send = new (T as any)([v(rank + 1), v(rank * 3), v(7 - rank), v(rank % 2)]);
          const recv = new (T as any)(4);
          await comm.Allreduce(send, recv, op);
          const inPlace = send.slice();
          await comm.Allreduce(IN_PLACE, inPlace, op);
          out[`${T.name} ${op}`] = `${recv.join(',')} / ${inPlace.join(',')}`;
        }
      }
      return out;
    });
    expect(mpi).toEqual(threads);
  });

  it('Allreduce falls back where MPI cannot: user ops, MAXLOC, Uint8ClampedArray, bitwise floats', async () => {
    const { mpi, threads } = await both(3, async (comm, rank) => {
      const { Op, MAXLOC } = require('tslab-parallel');
      const concat = Op.create((a: number, b: number) => a * 10 + b, false);
      const digits = new Float64Array(1);
      await comm.Allreduce(new Float64Array([rank + 1]), digits, concat);
      const loc = new Float64Array(2);
      await comm.Allreduce(new Float64Array([rank === 1 ? 9 : rank, rank]), loc, MAXLOC);
      const clamped = new Uint8ClampedArray(1);
      await comm.Allreduce(new Uint8ClampedArray([200]), clamped, 'SUM');
      const bits = new Float64Array(1);
      await comm.Allreduce(new Float64Array([rank + 4.5]), bits, 'BOR');
      return [digits[0], [...loc], clamped[0], bits[0]];
    });
    expect(mpi).toEqual(threads);
    expect(mpi[0]).toEqual([123, [9, 1], 255, 7]);
  });

  it('Bcast, Gather, Gatherv with displacements and Allgather, on split communicators too', async () => {
    const { mpi, threads } = await both(4, async (comm, rank, size) => {
      const row = await comm.split(rank % 2, rank);
      const a = new Float64Array(5).fill(rank === 1 ? 3.25 : 0);
      await comm.Bcast(a, 1);
      const counts = [1, 2, 3, 4];
      const displs = [10, 0, 3, 6];
      const gathered = rank === 2 ? new Int32Array(11).fill(-1) : null;
      await comm.Gatherv(new Int32Array(counts[rank]!).fill(rank + 1), rank === 2 ? [gathered, counts, displs] : null, 2);
      const all = new Int16Array(2 * size);
      await comm.Allgather(new Int16Array([rank, -rank]), all);
      const sums = new Float64Array(2);
      await row!.Allreduce(new Float64Array([rank, 1]), sums);
      const big = new Float64Array(300_000).fill(rank === 0 ? 1.5 : 0);
      await row!.Bcast(big, 0);
      return { a: [...a], gathered: gathered && [...gathered], all: [...all], sums: [...sums], row: row!.size, big: big[299_999] };
    });
    expect(mpi).toEqual(threads);
    expect(mpi[2]).toMatchObject({ gathered: [2, 2, -1, 3, 3, 3, 4, 4, 4, 4, 1], sums: [2, 2] });
  });

  it('messages around the inline limit and far beyond it arrive intact, objects too', async () => {
    const { mpi, threads } = await both(2, async (comm, rank) => {
      const sizes = [0, 1, 4015, 4016, 4017, 65536, 3_000_001];
      if (rank === 0) {
        for (const n of sizes) {
          const a = new Uint8Array(n);
          for (let i = 0; i < n; i++) a[i] = (i * 7 + n) & 255;
          await comm.Send(a, 1, n % 1000);
          await comm.send({ n, text: 'x'.repeat(n), nested: [n, { m: new Map([[n, a.subarray(0, 4)]]) }] }, 1, 5);
        }
        return [];
      }
      const out: unknown[] = [];
      for (const n of sizes) {
        const a = new Uint8Array(n + 3);
        const { Status } = require('tslab-parallel');
        const s = new Status();
        await comm.Recv(a, 0, n % 1000, s);
        let ok = s.count === n;
        for (let i = 0; i < n; i++) if (a[i] !== ((i * 7 + n) & 255)) ok = false;
        const o = await comm.recv(0, 5);
        out.push([n, ok, o.text.length, o.nested[0], [...o.nested[1].m.get(n)]]);
      }
      return out;
    });
    expect(mpi).toEqual(threads);
  });

  it('probe sees a large message before it is received: size and kind, then recv gets it', async () => {
    const [, got] = await runRanks<unknown>({
      np: 2,
      backend: 'mpi',
      onOutput: () => {},
      code: (async (comm: Comm, rank: number) => {
        if (rank === 0) {
          // Isend: a large Send completes only once its receive is posted, after the probes.
          const big = comm.Isend(new Float64Array(100_000).fill(2), 1, 9);
          await comm.send('small', 1, 8);
          await big.wait();
          return undefined;
        }
        const s9 = await comm.probe(0, 9);
        const s8 = await comm.probe(0, 8);
        const small = await comm.recv(0, 8);
        const big = await comm.recv(0, 9);
        return [s9.count, s8.tag, small, big.length, big[99_999]];
      }) as RankFunction,
    });
    expect(got).toEqual([800_000, 8, 'small', 100_000, 2]);
  });

  it('temporary arrays handed to MPI survive the garbage collector until MPI is done with them', async () => {
    const got = await runRanks<number[]>({
      np: 2,
      backend: 'mpi',
      onOutput: () => {},
      code: (async (comm: Comm, rank: number) => {
        const { Request } = require('tslab-parallel');
        const bad: number[] = [];
        const garbage = () => Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x'.repeat(i % 50) })); // keeps the GC busy
        for (let i = 0; i < 300; i++) {
          const sum = new Float64Array(2);
          await comm.Allreduce(new Float64Array([rank + i, 1]), sum, 'SUM');
          if (sum[0] !== 2 * i + 1 || sum[1] !== 2) bad.push(i);
          const into = new Float64Array(20_000);
          const recv = comm.Irecv(into, 1 - rank, i);
          const send = comm.Isend(new Float64Array(20_000).fill(i + rank), 1 - rank, i);
          garbage();
          await Request.waitall([send, recv]);
          if (into[0] !== i + 1 - rank || into[19_999] !== i + 1 - rank) bad.push(-i);
        }
        return bad;
      }) as RankFunction,
    });
    expect(got).toEqual([[], []]);
  });

  it('waits longer than the spin are woken by the progress thread: receives, probes, collectives', async () => {
    const [, got] = await runRanks<unknown>({
      np: 2,
      backend: 'mpi',
      onOutput: () => {},
      code: (async (comm: Comm, rank: number) => {
        const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
        if (rank === 0) {
          await later(200);
          await comm.send('late', 1, 1);
          await later(200);
          await comm.send('probed', 1, 2);
          await later(200);
          await comm.Barrier();
          return undefined;
        }
        const first = await comm.recv(0, 1);
        const status = await comm.probe(0, 2);
        const second = await comm.recv(0, 2);
        await comm.Barrier();
        return [first, status.tag, second];
      }) as RankFunction,
    });
    expect(got).toEqual(['late', 2, 'probed']);
  });
});
