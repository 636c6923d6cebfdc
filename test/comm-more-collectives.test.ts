/**
 * The typed collectives Alltoall, Alltoallv, Allgatherv, Reduce_scatter_block, Reduce_scatter,
 * Scan and Exscan, the nonblocking Ibarrier ... Ialltoall, and Request.waitsome / testany, on
 * every transport at 1 to 4 ranks, against answers worked out serially here: uneven counts and
 * gaps for the v-variants, IN_PLACE, built-in ops MPI does natively and non-commutative user Ops
 * (both Op.create and mpi4py's Op.Create) that it cannot.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeadlockError, runRanks, UNDEFINED, type RankFunction } from '../dist/src/comm/index.js';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { expectNoLeaks, resources, type Resources } from './fixtures/comm/leaks.js';

type Comm = Parameters<RankFunction>[0];

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
/** The digits of the values, lower ranks first: what a rank-ordered concatenation gives. */
const digits = (xs: readonly number[]) => Number(xs.join(''));

// Alltoallv: rank a sends (a + b) % 3 elements to rank b, the k-th worth 1000a + 10b + k.
const count = (a: number, b: number) => (a + b) % 3;
const value = (a: number, b: number, k: number) => 1000 * a + 10 * b + k;
/** Blocks laid out from the last rank to the first, one unused element between them. */
const reversedDispls = (counts: readonly number[]) => {
  const displs: number[] = Array(counts.length).fill(0);
  let at = 0;
  for (let i = counts.length - 1; i >= 0; i--) {
    displs[i] = at;
    at += counts[i]! + 1;
  }
  return { displs, length: at };
};

describe.each(backends)('%s', (backend: Backend) => {
  const run = <R>(np: number, code: (comm: Comm, rank: number, size: number) => Promise<R>) =>
    runRanks<R>({ np, backend, code: code as RankFunction, onOutput: () => {} });

  let before: Resources;
  beforeAll(async () => {
    await run(2, async (comm) => comm.barrier());
    before = resources();
  });
  afterEach(async () => expectNoLeaks(before));

  it.each([1, 2, 3, 4])('Alltoall, Alltoallv, Allgatherv at np %i', async (np) => {
    const got = await run(np, async (comm, rank, size) => {
      const { IN_PLACE } = require('tslab-parallel');
      const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
      const count = (a: number, b: number) => (a + b) % 3;
      const value = (a: number, b: number, k: number) => 1000 * a + 10 * b + k;
      const out: Record<string, unknown> = {};

      const send = Int32Array.from({ length: 2 * size }, (_, j) => (j % 2 ? -1 : 1) * (100 * rank + (j >> 1)));
      const recv = new Int32Array(2 * size);
      await comm.Alltoall(send, recv);
      out.alltoall = Array.from(recv);
      const inPlace = send.slice();
      await comm.Alltoall(IN_PLACE, inPlace);
      out.alltoallInPlace = Array.from(inPlace);

      const sc = Array.from({ length: size }, (_, b) => count(rank, b));
      const sendv = Float64Array.from(sc.flatMap((c, b) => Array.from({ length: c }, (_, k) => value(rank, b, k))));
      const rc = Array.from({ length: size }, (_, a) => count(a, rank));
      const rd: number[] = [];
      let at = 0;
      for (let a = size - 1; a >= 0; a--) {
        rd[a] = at;
        at += rc[a]! + 1;
      }
      const recvv = new Float64Array(at).fill(-1);
      await comm.Alltoallv([sendv, sc], [recvv, rc, rd]);
      out.alltoallv = Array.from(recvv);
      // In place the send counts are the receive counts: (a + b) % 3 is symmetric.
      const packed = sc.map((_, b) => sum(sc.slice(0, b)));
      const own = Float64Array.from(sc.flatMap((c, b) => Array.from({ length: c }, (_, k) => value(rank, b, k))));
      await comm.Alltoallv(IN_PLACE, [own, sc, packed]);
      out.alltoallvInPlace = Array.from(own);

      const counts = Array.from({ length: size }, (_, i) => (i % 3) + 1);
      const displs = counts.map((_, i) => sum(counts.slice(0, i)) + i); // one gap before each block but the first
      const length = sum(counts) + size;
      const ag = new Float32Array(length).fill(-1);
      await comm.Allgatherv(Float32Array.from({ length: counts[rank]! }, (_, k) => rank * 10 + k), [ag, counts, displs]);
      out.allgatherv = Array.from(ag);
      const agIn = new Float32Array(length).fill(-1);
      for (let k = 0; k < counts[rank]!; k++) agIn[displs[rank]! + k] = rank * 10 + k;
      await comm.Allgatherv(IN_PLACE, [agIn, counts, displs]);
      out.allgathervInPlace = Array.from(agIn);
      const agPacked = new Int16Array(sum(counts));
      await comm.Allgatherv(Int16Array.from({ length: counts[rank]! }, () => rank), [agPacked, counts]);
      out.allgathervPacked = Array.from(agPacked);
      return out;
    });
    got.forEach((r, rank) => {
      const rc = range(np).map((a) => count(a, rank));
      const { displs: rd, length } = reversedDispls(rc);
      const alltoallv = Array<number>(length).fill(-1);
      range(np).forEach((a) => range(rc[a]!).forEach((k) => (alltoallv[rd[a]! + k] = value(a, rank, k))));
      const counts = range(np).map((i) => (i % 3) + 1);
      const allgatherv: number[] = [];
      range(np).forEach((i) => {
        if (i > 0) allgatherv.push(-1);
        allgatherv.push(...range(counts[i]!).map((k) => i * 10 + k));
      });
      allgatherv.push(-1);
      const alltoall = range(np).flatMap((j) => [100 * j + rank, 0 - (100 * j + rank)]); // Int32Array has no -0
      expect(r).toEqual({
        alltoall,
        alltoallInPlace: alltoall,
        alltoallv,
        alltoallvInPlace: range(np).flatMap((a) => range(rc[a]!).map((k) => value(a, rank, k))),
        allgatherv,
        allgathervInPlace: allgatherv,
        allgathervPacked: range(np).flatMap((i) => Array(counts[i]!).fill(i)),
      });
    });
  });

  it.each([1, 2, 3, 4])('Reduce_scatter_block, Reduce_scatter, Scan, Exscan with built-in and non-commutative Ops at np %i', async (np) => {
    const got = await run(np, async (comm, rank, size) => {
      const { IN_PLACE, Op } = require('tslab-parallel');
      const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
      // Digit concatenation: associative (as MPI requires) but not commutative.
      const cat = Op.create((a: number, b: number) => a * 10 ** String(b).length + b, false);
      const catMpi4py = Op.Create((invec: Float64Array, inoutvec: Float64Array) => {
        for (let i = 0; i < invec.length; i++) inoutvec[i] = invec[i]! * 10 ** String(inoutvec[i]).length + inoutvec[i]!;
      });
      const out: Record<string, unknown> = {};

      const block = new Float64Array(2);
      await comm.Reduce_scatter_block(Float64Array.from({ length: 2 * size }, (_, j) => rank + j * 0.5), block, 'SUM');
      out.rsBlock = Array.from(block);
      const blockCat = new Float64Array(2);
      await comm.Reduce_scatter_block(new Float64Array(2 * size).fill(rank + 1), blockCat, cat);
      out.rsBlockCat = Array.from(blockCat);
      const blockIn = Int32Array.from({ length: 2 * size }, (_, j) => (j === 2 * rank ? 100 : rank - j));
      await comm.Reduce_scatter_block(IN_PLACE, blockIn, 'MAX');
      out.rsBlockInPlace = Array.from(blockIn.subarray(0, 2));

      const counts = Array.from({ length: size }, (_, i) => i + 1);
      const total = sum(counts);
      const mine = new Float64Array(rank + 1);
      await comm.Reduce_scatter(Float64Array.from({ length: total }, (_, j) => rank * j), mine, counts, 'SUM');
      out.rs = Array.from(mine);
      const implied = new Float64Array(rank + 1);
      await comm.Reduce_scatter(Float64Array.from({ length: total }, (_, j) => rank * j), implied); // counts from each recvbuf
      out.rsImplied = Array.from(implied);
      const mineCat = new Float64Array(rank + 1);
      await comm.Reduce_scatter(new Float64Array(total).fill(rank + 1), mineCat, counts, catMpi4py);
      out.rsCat = Array.from(mineCat);
      const rsIn = Float64Array.from({ length: total }, (_, j) => rank + j);
      await comm.Reduce_scatter(IN_PLACE, rsIn, counts, 'PROD');
      out.rsInPlace = Array.from(rsIn.subarray(0, rank + 1));

      const scan = new Float64Array(2);
      await comm.Scan(new Float64Array([rank + 1, 2]), scan, 'SUM');
      out.scan = Array.from(scan);
      const scanMax = new Int32Array([rank % 2 ? 10 * rank : -rank]);
      await comm.Scan(IN_PLACE, scanMax, 'MAX');
      out.scanInPlace = scanMax[0];
      const scanCat = new Float64Array(1);
      await comm.Scan(new Float64Array([rank + 1]), scanCat, cat);
      out.scanCat = scanCat[0];
      const scanCat2 = new Float64Array([rank + 1]);
      await comm.Scan(IN_PLACE, scanCat2, catMpi4py);
      out.scanCatMpi4py = scanCat2[0];
      const ex = new Float64Array(2).fill(-7);
      await comm.Exscan(new Float64Array([rank + 1, 2]), ex, 'SUM');
      out.exscan = Array.from(ex);
      const exCat = new Float64Array([rank + 1]);
      await comm.Exscan(IN_PLACE, exCat, cat);
      out.exscanCat = exCat[0];
      return out;
    });
    got.forEach((r, rank) => {
      const ranks = range(np);
      const off = sum(range(rank).map((i) => i + 1));
      const rsBlock = [0, 1].map((k) => sum(ranks.map((q) => q + (2 * rank + k) * 0.5)));
      expect(r).toEqual({
        rsBlock,
        rsBlockCat: [0, 1].map(() => digits(ranks.map((q) => q + 1))),
        rsBlockInPlace: [0, 1].map((k) => Math.max(...ranks.map((q) => (2 * rank + k === 2 * q ? 100 : q - (2 * rank + k))))),
        rs: range(rank + 1).map((k) => sum(ranks.map((q) => q * (off + k)))),
        rsImplied: range(rank + 1).map((k) => sum(ranks.map((q) => q * (off + k)))),
        rsCat: range(rank + 1).map(() => digits(ranks.map((q) => q + 1))),
        rsInPlace: range(rank + 1).map((k) => ranks.reduce((a, q) => a * (q + off + k), 1)),
        scan: [((rank + 1) * (rank + 2)) / 2, 2 * (rank + 1)],
        scanInPlace: Math.max(...range(rank + 1).map((q) => (q % 2 ? 10 * q : -q))) + 0, // Int32Array has no -0
        scanCat: digits(range(rank + 1).map((q) => q + 1)),
        scanCatMpi4py: digits(range(rank + 1).map((q) => q + 1)),
        exscan: rank === 0 ? [-7, -7] : [(rank * (rank + 1)) / 2, 2 * rank],
        exscanCat: rank === 0 ? 1 : digits(range(rank).map((q) => q + 1)),
      });
    });
  });

  it.each([1, 2, 3, 4])('nonblocking collectives in flight together, beside a blocking one and point-to-point, at np %i', async (np) => {
    const got = await run(np, async (comm, rank, size) => {
      const { IN_PLACE, Op, Request } = require('tslab-parallel');
      const cat = Op.create((a: number, b: number) => a * 10 ** String(b).length + b, false);
      const bc = new Float64Array(3).fill(rank === 0 ? 5 : 0);
      const all = new Float64Array(2);
      const max = new Int32Array(1);
      const gathered = new Int16Array(size);
      const ag = new Float32Array(2 * size);
      const a2a = new Int32Array(size);
      const user = new Float64Array([rank + 1]);
      const requests = [
        comm.Ibcast(bc, 0),
        comm.Iallreduce(new Float64Array([rank, 1]), all, 'SUM'),
        comm.Ireduce(new Int32Array([rank]), rank === size - 1 ? max : null, 'MAX', size - 1),
        comm.Igather(new Int16Array([rank * 2]), rank === 0 ? gathered : null, 0),
        comm.Iallgather(new Float32Array([rank, -rank]), ag),
        comm.Ialltoall(Int32Array.from({ length: size }, (_, i) => rank * 10 + i), a2a),
        comm.Ibarrier(),
        comm.Iallreduce(IN_PLACE, user, cat), // a second Iallreduce in flight, on the comm layer's algorithm
      ];
      const blocking = await comm.allreduce(rank); // a blocking collective while they run
      const results = await Request.waitall(requests);

      // waitsome until no request is left active (mpi4py's loop), collectives and a receive mixed.
      const next = (rank + 1) % size;
      const prev = (rank + size - 1) % size;
      const mixed = [comm.Ibarrier(), comm.irecv(next, 3), comm.Iallreduce(new Int32Array([1]), new Int32Array(1))];
      await comm.send(`from ${rank}`, prev, 3);
      const seen: number[] = [];
      const values: unknown[] = [];
      for (;;) {
        const [indices, got] = await Request.waitsome(mixed);
        if (indices === undefined) break;
        seen.push(...indices);
        values.push(...got!);
      }
      const afterAll = await Request.waitsome(mixed);

      // testany: nothing yet, then the message, then nothing active.
      const req = comm.irecv(prev, 4);
      const nothingYet = Request.testany([req]);
      await comm.barrier();
      await comm.send('late', next, 4);
      let found = Request.testany([req]);
      while (!found[1]) {
        await new Promise((resolve) => setImmediate(resolve));
        found = Request.testany([req]);
      }
      const inactive = [Request.testany([req]), await Request.waitany([req]), Request.Testany([req])];

      // A collective request polled with test(), awaiting between tests.
      const polled = comm.Ibarrier();
      let tests = 0;
      while (!polled.test()[0]) {
        tests++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return {
        results,
        bcast: Array.from(bc),
        allreduce: Array.from(all),
        reduce: rank === size - 1 ? max[0] : null,
        gather: rank === 0 ? Array.from(gathered) : null,
        allgather: Array.from(ag),
        alltoall: Array.from(a2a),
        user: user[0],
        blocking,
        seen: seen.sort(),
        message: values.filter((v) => v !== undefined),
        afterAll,
        nothingYet,
        found,
        inactive,
        testedUntilDone: tests >= 0 && polled.done,
      };
    });
    got.forEach((r, rank) => {
      const ranks = range(np);
      expect(r).toEqual({
        results: Array(8).fill(undefined),
        bcast: [5, 5, 5],
        allreduce: [sum(ranks), np],
        reduce: rank === np - 1 ? np - 1 : null,
        gather: rank === 0 ? ranks.map((q) => 2 * q) : null,
        allgather: ranks.flatMap((q) => [q, -q]),
        alltoall: ranks.map((q) => q * 10 + rank),
        user: digits(ranks.map((q) => q + 1)),
        blocking: sum(ranks),
        seen: [0, 1, 2],
        message: [`from ${(rank + 1) % np}`],
        afterAll: [undefined, undefined],
        nothingYet: [UNDEFINED, false, undefined],
        found: [0, true, 'late'],
        inactive: [[UNDEFINED, true, undefined], [UNDEFINED, undefined], [UNDEFINED, true]],
        testedUntilDone: true,
      });
    });
  });

  it.each([1, 3, 4])('the rest of mpi4py’s nonblocking collectives, all in flight at once, give what their blocking twins give, at np %i', async (np) => {
    const got = await run(np, async (comm, rank, size) => {
      const { IN_PLACE, Op, Request } = require('tslab-parallel');
      const cat = Op.create((a: number, b: number) => a * 10 ** String(b).length + b, false);
      const counts = Array.from({ length: size }, (_, i) => i + 1);
      const total = counts.reduce((a, c) => a + c, 0);
      const source = Float64Array.from({ length: total }, (_, i) => 100 + i);
      // Each case makes fresh buffers, so the nonblocking and the blocking run can be compared.
      const cases: [string, (nb: boolean) => { start: () => Promise<void> | { wait(): Promise<unknown> }; out: () => unknown }][] = [
        ['gatherv', (nb) => {
          const buf = new Float64Array(total + 1).fill(-1);
          const args = [new Float64Array(rank + 1).fill(rank), rank === 0 ? [buf, counts] : null, 0] as const;
          return { start: () => (nb ? comm.Igatherv(...args) : comm.Gatherv(...args)), out: () => (rank === 0 ? Array.from(buf) : null) };
        }],
        ['scatter', (nb) => {
          const buf = new Int32Array(2);
          const args = [rank === size - 1 ? Int32Array.from({ length: 2 * size }, (_, i) => i * i) : null, buf, size - 1] as const;
          return { start: () => (nb ? comm.Iscatter(...args) : comm.Scatter(...args)), out: () => Array.from(buf) };
        }],
        ['scatterv', (nb) => {
          const buf = new Float64Array(rank + 1);
          const args = [rank === 0 ? [source, counts] : null, buf, 0] as const;
          return { start: () => (nb ? comm.Iscatterv(...args) : comm.Scatterv(...args)), out: () => Array.from(buf) };
        }],
        ['allgatherv', (nb) => {
          const buf = new Float32Array(total);
          const args = [new Float32Array(rank + 1).fill(rank + 0.5), [buf, counts]] as const;
          return { start: () => (nb ? comm.Iallgatherv(...args) : comm.Allgatherv(...args)), out: () => Array.from(buf) };
        }],
        ['alltoallv', (nb) => {
          const sc = Array.from({ length: size }, (_, b) => (rank + b) % 3);
          const rc = Array.from({ length: size }, (_, a) => (a + rank) % 3);
          const send = Float64Array.from({ length: sc.reduce((a, c) => a + c, 0) }, (_, k) => rank * 1000 + k);
          const buf = new Float64Array(rc.reduce((a, c) => a + c, 0));
          const args = [[send, sc], [buf, rc]] as const;
          return { start: () => (nb ? comm.Ialltoallv(...args) : comm.Alltoallv(...args)), out: () => Array.from(buf) };
        }],
        ['reduce_scatter_block', (nb) => {
          const buf = new Float64Array(2);
          const args = [new Float64Array(2 * size).fill(rank + 1), buf, cat] as const;
          return { start: () => (nb ? comm.Ireduce_scatter_block(...args) : comm.Reduce_scatter_block(...args)), out: () => Array.from(buf) };
        }],
        ['reduce_scatter', (nb) => {
          const buf = Float64Array.from({ length: total }, (_, j) => rank + j);
          const args = [IN_PLACE, buf, counts, 'SUM'] as const;
          return { start: () => (nb ? comm.Ireduce_scatter(...args) : comm.Reduce_scatter(...args)), out: () => Array.from(buf.subarray(0, rank + 1)) };
        }],
        ['scan', (nb) => {
          const buf = new Int32Array(1);
          const args = [new Int32Array([rank + 1]), buf, 'PROD'] as const;
          return { start: () => (nb ? comm.Iscan(...args) : comm.Scan(...args)), out: () => buf[0] };
        }],
        ['exscan', (nb) => {
          const buf = new Float64Array([rank + 1]);
          const args = [IN_PLACE, buf, cat] as const;
          return { start: () => (nb ? comm.Iexscan(...args) : comm.Exscan(...args)), out: () => buf[0] };
        }],
      ];
      const nonblocking = cases.map(([, make]) => make(true));
      await Request.waitall(nonblocking.map((c) => c.start()));
      const blocking: unknown[] = [];
      for (const [, make] of cases) {
        const c = make(false);
        await c.start();
        blocking.push(c.out());
      }
      return { names: cases.map(([name]) => name), nonblocking: nonblocking.map((c) => c.out()), blocking };
    });
    got.forEach((r, rank) => {
      expect(r.nonblocking).toEqual(r.blocking);
      expect(r.names).toHaveLength(9);
      const i = r.names.indexOf('scatterv');
      const off = sum(range(rank).map((q) => q + 1));
      expect(r.blocking[i]).toEqual(range(rank + 1).map((k) => 100 + off + k));
    });
  });

  it('a nonblocking collective whose algorithm ends in a Bcast and a Bcast called after it, with ranks at different speeds, each get their own data', async () => {
    const got = await run(3, async (comm, rank) => {
      const { IN_PLACE, Op } = require('tslab-parallel');
      const cat = Op.create((a: number, b: number) => a * 10 ** String(b).length + b, false);
      const user = new Float64Array([rank + 1]);
      const request = comm.Iallreduce(IN_PLACE, user, cat); // at np 3: reduce, then broadcast
      // Rank 0 lets its part of the Iallreduce finish first; the others go straight on.
      if (rank === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      const b = new Float64Array(2).fill(rank === 0 ? 9 : 0);
      await comm.Bcast(b, 0);
      await request.wait();
      return [user[0], Array.from(b)];
    });
    expect(got).toEqual([0, 1, 2].map(() => [123, [9, 9]]));
  });

  it('a bad argument to a nonblocking collective throws at the call, before anything starts, and the next one works', async () => {
    const got = await run(2, async (comm, rank) => {
      let thrown = '';
      try {
        comm.Ireduce(new Float64Array(1), null, 'SUM', 5);
      } catch (err) {
        thrown = (err as Error).message;
      }
      const sum = new Float64Array(1);
      await comm.Iallreduce(new Float64Array([rank + 1]), sum).wait();
      return [thrown, sum[0]];
    });
    for (const [thrown, sum] of got) {
      expect(thrown).toMatch(/^Ireduce: root=5 is not a rank of this communicator of size 2/);
      expect(sum).toBe(3);
    }
  });

  it.each([
    ['waited for alone', 'await comm.Ibarrier().wait();'],
    ['in a waitsome beside a receive', "await require('tslab-parallel').Request.waitsome([comm.Ibarrier(), comm.irecv(1, 9)]);"],
  ])('a nonblocking collective one rank never starts is a deadlock named after the collective (%s)', async (_name, body) => {
    const code = `async (comm, rank) => { if (rank === 0) { ${body} } }`;
    const err = await runRanks({ np: 2, backend, code, timeout: 0.5, onOutput: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlockError);
    expect((err as DeadlockError).ranks).toEqual([
      { rank: 0, doing: 'waiting in barrier()' },
      { rank: 1, doing: 'finished' },
    ]);
  });

  it.each([
    ['Alltoall with a receive buffer that does not split into equal blocks', 'await comm.Alltoall(new Int32Array(3), new Int32Array(3));', 'Alltoall: recvbuf has 3 elements, not a multiple of the 2 ranks'],
    ['Reduce_scatter IN_PLACE without counts', "await comm.Reduce_scatter(require('tslab-parallel').IN_PLACE, new Float64Array(4));", 'Reduce_scatter: IN_PLACE without recvcounts'],
    ['Allgatherv with counts for the wrong number of ranks', 'await comm.Allgatherv(new Float64Array(1), [new Float64Array(4), [1, 1, 1]]);', 'Allgatherv'],
    ['Ibcast of something that is not a typed array, at the call', 'comm.Ibcast([1, 2]);', 'Ibcast: buf must be a typed array (e.g. Float64Array), got an array of length 2; use the lower-case bcast() for other values'],
    ['Ialltoall with a receive buffer that does not split into equal blocks, at the call', 'comm.Ialltoall(new Int32Array(4), new Int32Array(3));', 'Ialltoall: recvbuf has 3 elements, not a multiple of the 2 ranks'],
  ])('%s: a one-line error naming the call', async (_name, body, message) => {
    const code = `async (comm) => { ${body} }`;
    await expect(runRanks({ np: 2, backend, code, onOutput: () => {} })).rejects.toThrow(message);
  });
});
