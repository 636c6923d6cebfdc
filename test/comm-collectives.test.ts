/**
 * Collectives and reduction operations on every transport, at 1 to 4 ranks: objects
 * (bcast ... exscan) and typed arrays (Bcast ... Allgather), built-in and user-defined Ops.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { expectNoLeaks, resources, type Resources } from './fixtures/comm/leaks.js';

type Comm = Parameters<RankFunction>[0];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe.each(backends)('%s', (backend: Backend) => {
  const run = <R>(np: number, code: (comm: Comm, rank: number, size: number) => Promise<R>) =>
    runRanks<R>({ np, backend, code: code as RankFunction, onOutput: () => {} });

  let before: Resources;
  beforeAll(async () => {
    await run(2, async (comm) => comm.barrier());
    before = resources();
  });
  afterEach(async () => expectNoLeaks(before));

  it.each([1, 2, 3, 4])('object collectives at np %i', async (np) => {
    const got = await run(np, async (comm, rank, size) => {
      const { Op } = require('tslab-parallel');
      const concat = Op.create((a: string, b: string) => a + b, false);
      await comm.barrier();
      await comm.Barrier();
      return {
        bcast: await comm.bcast(rank === size - 1 ? { from: rank } : null, size - 1),
        scatter: await comm.scatter(rank === 0 ? Array.from({ length: size }, (_, i) => `s${i}`) : null, 0),
        gather: await comm.gather(rank * rank, 1 % size),
        allgather: await comm.allgather([rank]),
        alltoall: await comm.alltoall(Array.from({ length: size }, (_, i) => `${rank}->${i}`)),
        reduce: await comm.reduce(rank + 1, 'SUM', 0),
        reduceMax: await comm.reduce(rank, 'MAX', size - 1),
        sum: await comm.allreduce(rank + 0.5),
        prod: await comm.allreduce(rank + 1, 'PROD'),
        min: await comm.allreduce(10 - rank, 'MIN'),
        land: await comm.allreduce(rank !== 1, 'LAND'),
        lor: await comm.allreduce(rank === 1, 'LOR'),
        band: await comm.allreduce(0b111 ^ (1 << rank % 3), 'BAND'),
        bor: await comm.allreduce(1 << rank, 'BOR'),
        maxloc: await comm.allreduce([rank % 2, rank], 'MAXLOC'),
        minloc: await comm.allreduce([rank % 2, rank], 'MINLOC'),
        arrays: await comm.allreduce([rank, 1, new Float64Array([rank])]),
        ordered: await comm.allreduce(String(rank), concat),
        reduceOrdered: await comm.reduce(String(rank), concat, size - 1),
        scan: await comm.scan(rank + 1),
        exscan: await comm.exscan(rank + 1),
        scanOrdered: await comm.scan(String(rank), concat),
      };
    });
    got.forEach((r, rank) => {
      const last = np - 1;
      expect(r).toEqual({
        bcast: { from: last },
        scatter: `s${rank}`,
        gather: rank === 1 % np ? range(np).map((i) => i * i) : undefined,
        allgather: range(np).map((i) => [i]),
        alltoall: range(np).map((i) => `${i}->${rank}`),
        reduce: rank === 0 ? (np * (np + 1)) / 2 : undefined,
        reduceMax: rank === last ? last : undefined,
        sum: range(np).reduce((a, i) => a + i + 0.5, 0),
        prod: range(np).reduce((a, i) => a * (i + 1), 1),
        min: 10 - last,
        land: np < 2,
        lor: np >= 2,
        band: range(np).reduce((a, i) => a & (0b111 ^ (1 << i % 3)), 0b111),
        bor: (1 << np) - 1,
        maxloc: np > 1 ? [1, 1] : [0, 0],
        minloc: [0, 0],
        arrays: [range(np).reduce((a, b) => a + b, 0), np, new Float64Array([range(np).reduce((a, b) => a + b, 0)])],
        ordered: range(np).join(''),
        reduceOrdered: rank === last ? range(np).join('') : undefined,
        scan: ((rank + 1) * (rank + 2)) / 2,
        exscan: rank === 0 ? undefined : (rank * (rank + 1)) / 2,
        scanOrdered: range(rank + 1).join(''),
      });
    });
  });

  it.each([1, 2, 3, 4])('typed-array collectives at np %i', async (np) => {
    const got = await run(np, async (comm, rank, size) => {
      const { IN_PLACE, Op } = require('tslab-parallel');
      const out: Record<string, unknown> = {};
      const b = new Float64Array(3).fill(rank === size - 1 ? 7 : 0);
      await comm.Bcast(b, size - 1);
      out.bcast = Array.from(b);

      const sum = new Float64Array(2);
      await comm.Reduce(new Float64Array([rank, 1]), rank === 0 ? sum : null, 'SUM', 0);
      out.reduce = rank === 0 ? Array.from(sum) : null;
      const inPlace = new Int32Array([rank, -rank]);
      await comm.Reduce(rank === size - 1 ? IN_PLACE : inPlace, rank === size - 1 ? inPlace : null, 'MAX', size - 1);
      out.reduceInPlace = rank === size - 1 ? Array.from(inPlace) : null;

      const all = new Float64Array(2);
      await comm.Allreduce(new Float64Array([rank + 0.25, 2]), all, 'PROD');
      out.allreduce = Array.from(all);
      const own = new Int32Array([rank, rank]);
      await comm.Allreduce(IN_PLACE, own, 'SUM');
      out.allreduceInPlace = Array.from(own);
      const loc = new Float64Array([rank % 2, rank, -rank, rank]);
      await comm.Allreduce(IN_PLACE, loc, 'MAXLOC');
      out.maxloc = Array.from(loc);
      const user = new Float64Array([rank + 1]);
      // Digit concatenation: associative (as MPI requires) but not commutative.
      await comm.Allreduce(IN_PLACE, user, Op.create((a: number, b: number) => a * 10 ** String(b).length + b, false));
      out.userOp = user[0];
      const big = new Float64Array(500_000).fill(rank + 1);
      await comm.Allreduce(IN_PLACE, big, 'SUM');
      out.big = [big[0], big[499_999]];

      const gathered = new Int16Array(2 * size);
      await comm.Gather(new Int16Array([rank, -rank]), rank === 0 ? gathered : null, 0);
      out.gather = rank === 0 ? Array.from(gathered) : null;
      const counts = Array.from({ length: size }, (_, i) => i + 1);
      const gv = new Float32Array(counts.reduce((a, c) => a + c, 0) + 1).fill(-1);
      await comm.Gatherv(new Float32Array(rank + 1).fill(rank), rank === 1 % size ? [gv, counts] : null, 1 % size);
      out.gatherv = rank === 1 % size ? Array.from(gv) : null;
      const displs = counts.map((_, i) => 2 * (size - 1 - i)); // reversed, with gaps
      const gd = new Float32Array(2 * size).fill(-1);
      await comm.Gatherv(new Float32Array([rank]), rank === 0 ? [gd, counts.map(() => 1), displs] : null, 0);
      out.gathervDispls = rank === 0 ? Array.from(gd) : null;

      const sc = new Uint8Array(2);
      await comm.Scatter(rank === 0 ? Uint8Array.from({ length: 2 * size }, (_, i) => i) : null, sc, 0);
      out.scatter = Array.from(sc);
      const sv = new Float64Array(rank + 1);
      const source = Float64Array.from({ length: counts.reduce((a, c) => a + c, 0) }, (_, i) => i);
      await comm.Scatterv(rank === size - 1 ? [source, counts] : null, sv, size - 1);
      out.scatterv = Array.from(sv);

      const ag = new Int32Array(size);
      await comm.Allgather(new Int32Array([rank * 3]), ag);
      out.allgather = Array.from(ag);
      const bigB = new Float64Array(1_200_000).fill(rank === 0 ? 2 : 0);
      await comm.Bcast(bigB, 0);
      out.bigBcast = [bigB[0], bigB[1_199_999]];
      return out;
    });
    const last = np - 1;
    const counts = range(np).map((i) => i + 1);
    got.forEach((r, rank) => {
      let packed = 0;
      expect(r).toEqual({
        bcast: [7, 7, 7],
        reduce: rank === 0 ? [range(np).reduce((a, b) => a + b, 0), np] : null,
        reduceInPlace: rank === last ? [last, 0] : null,
        allreduce: [range(np).reduce((a, i) => a * (i + 0.25), 1), 2 ** np],
        allreduceInPlace: Array(2).fill(range(np).reduce((a, b) => a + b, 0)),
        maxloc: np > 1 ? [1, 1, -0, 0] : [0, 0, -0, 0],
        userOp: Number(range(np).map((i) => i + 1).join('')),
        big: [(np * (np + 1)) / 2, (np * (np + 1)) / 2],
        gather: rank === 0 ? range(np).flatMap((i) => [i, i === 0 ? 0 : -i]) : null,
        gatherv: rank === 1 % np ? [...range(np).flatMap((i) => Array(i + 1).fill(i)), -1] : null,
        gathervDispls: rank === 0 ? range(2 * np).map((j) => (j % 2 === 0 ? last - j / 2 : -1)) : null,
        scatter: [2 * rank, 2 * rank + 1],
        scatterv: (() => {
          packed = counts.slice(0, rank).reduce((a, c) => a + c, 0);
          return range(rank + 1).map((i) => packed + i);
        })(),
        allgather: range(np).map((i) => i * 3),
        bigBcast: [2, 2],
      });
    });
  });

  it.each([2, 3])('small Allreduce calls started before the last one finished, on the world and a dup, each get their own result (np %i)', async (np) => {
    const got = await run(np, async (comm, rank) => {
      const { IN_PLACE } = require('tslab-parallel');
      const twin = await comm.dup();
      const results: number[][] = [];
      for (let round = 0; round < 50; round++) {
        const a = new Float64Array([rank + round]);
        const b = new Int32Array([rank * round, 1]);
        const c = new Float64Array([rank === round % 3 ? 1 : 0]);
        // Not awaited one by one: the second and third start while the first may still wait.
        await Promise.all([comm.Allreduce(IN_PLACE, a, 'SUM'), comm.Allreduce(IN_PLACE, b, 'MAX'), twin.Allreduce(IN_PLACE, c, 'SUM')]);
        results.push([a[0]!, b[0]!, b[1]!, c[0]!]);
      }
      return results;
    });
    const sumRanks = range(np).reduce((x, i) => x + i, 0);
    for (const r of got) {
      expect(r).toEqual(range(50).map((round) => [sumRanks + np * round, (np - 1) * round, 1, round % 3 < np ? 1 : 0]));
    }
  });

  it('Iallreduce on the world and on a dup, started in opposite orders on the two ranks, each get their own result', async () => {
    const got = await run(2, async (comm, rank) => {
      const { IN_PLACE, Request } = require('tslab-parallel');
      const twin = await comm.dup();
      const a = new Float64Array([rank + 1]);
      const b = new Float64Array([10 * (rank + 1)]);
      const requests = rank === 0 ? [comm.Iallreduce(IN_PLACE, a), twin.Iallreduce(IN_PLACE, b)] : [twin.Iallreduce(IN_PLACE, b), comm.Iallreduce(IN_PLACE, a)];
      await Request.waitall(requests);
      return [a[0], b[0]];
    });
    for (const r of got) expect(r).toEqual([3, 30]);
  });

  it.runIf(backend === 'threads')('a small Allreduce with buffers of different lengths on different ranks fails with a message that names the mismatch', async () => {
    await expect(run(2, async (comm, rank) => comm.Allreduce(new Float64Array(rank + 1), new Float64Array(rank + 1)))).rejects.toThrow(
      /buffers of (8|16) bytes here and (8|16) on world rank \d.*same type and length/,
    );
  });

  it('LAND and LOR reduce bigint arrays into bigints', async () => {
    const got = await run(2, async (comm, rank) => {
      const and = new BigInt64Array(3);
      const or = new BigUint64Array(3);
      await comm.Allreduce(new BigInt64Array([1n, BigInt(rank), 0n]), and, 'LAND');
      await comm.Allreduce(new BigUint64Array([0n, BigInt(rank), 0n]), or, 'LOR');
      return [[...and], [...or]];
    });
    for (const r of got) expect(r).toEqual([[1n, 0n, 0n], [0n, 1n, 0n]]);
  });

  it('split, dup and createCart make communicators whose messages never mix', async () => {
    const got = await run(4, async (comm, rank) => {
      const { UNDEFINED, PROC_NULL } = require('tslab-parallel');
      const half = (await comm.split(rank % 2, -rank))!; // reversed order within each half
      const dup = await comm.dup();
      const none = await comm.split(rank === 3 ? UNDEFINED : 0);
      // The same tag on three communicators: each receive gets its own communicator's message.
      const peer = rank ^ 1;
      await comm.send(`world from ${rank}`, peer, 0);
      await dup.send(`dup from ${rank}`, peer, 0);
      const partner = half.size - 1 - half.rank;
      await half.send(`half from ${rank}`, partner, 0);
      const fromHalf = await half.recv(partner, 0);
      const fromDup = await dup.recv(peer, 0);
      const fromWorld = await comm.recv(peer, 0);
      const line = (await comm.createCart([4], [false]))!;
      const ring = (await comm.createCart([4], true))!;
      const grid = (await comm.createCart([0, 0]))!;
      const small = await comm.createCart([3]);
      return {
        half: [half.rank, half.size, await half.allreduce(rank)],
        dupSum: await dup.allreduce(1),
        none: none === null ? null : [none.rank, none.size],
        messages: [fromWorld, fromDup, fromHalf],
        line: line.shift(0, 1).map((r: number) => (r === PROC_NULL ? 'null' : r)),
        ring: ring.shift(0, 1),
        grid: [grid.dims, grid.coords, grid.shift(0, 1), grid.shift(1, -1), grid.getCartRank([1, 1])],
        small: small === null ? null : small.size,
      };
    });
    expect(got).toEqual([
      {
        half: [1, 2, 2],
        dupSum: 4,
        none: [0, 3],
        messages: ['world from 1', 'dup from 1', 'half from 2'],
        line: ['null', 1],
        ring: [3, 1],
        grid: [[2, 2], [0, 0], [-2, 2], [1, -2], 3],
        small: 3,
      },
      {
        half: [1, 2, 4],
        dupSum: 4,
        none: [1, 3],
        messages: ['world from 0', 'dup from 0', 'half from 3'],
        line: [0, 2],
        ring: [0, 2],
        grid: [[2, 2], [0, 1], [-2, 3], [-2, 0], 3],
        small: 3,
      },
      {
        half: [0, 2, 2],
        dupSum: 4,
        none: [2, 3],
        messages: ['world from 3', 'dup from 3', 'half from 0'],
        line: [1, 3],
        ring: [1, 3],
        grid: [[2, 2], [1, 0], [0, -2], [3, -2], 3],
        small: 3,
      },
      {
        half: [0, 2, 4],
        dupSum: 4,
        none: null,
        messages: ['world from 2', 'dup from 2', 'half from 1'],
        line: [2, 'null'],
        ring: [2, 0],
        grid: [[2, 2], [1, 1], [1, -2], [-2, 2], 3],
        small: null,
      },
    ]);
  });

  it('comm, rank and size are in scope, the same comm as tslab-parallel’s; wtime is one clock for all ranks', async () => {
    const got = await run(2, async (comm, rank, size) => {
      const lib = require('tslab-parallel');
      const t0 = lib.wtime();
      const times = await comm.allgather(t0);
      return {
        same: lib.comm === comm && lib.world() === comm,
        rank: [rank, comm.rank, comm.Get_rank()],
        size: [size, comm.size, comm.Get_size()],
        backend: comm.backend,
        spread: Math.abs(times[0] - times[1]) < 60,
        later: lib.wtime() >= t0,
      };
    });
    got.forEach((r, rank) => expect(r).toEqual({ same: true, rank: [rank, rank, rank], size: [2, 2, 2], backend, spread: true, later: true }));
  });
});
