/**
 * Blocking collectives started together (Promise.all, without awaiting each) on one
 * communicator, every rank in the same order: each gets its own, exact result on every
 * transport, beside nonblocking ones, and collectives built on other collectives (a user Op
 * Allreduce ending in a Bcast, dup, split) do not deadlock. MPI forbids this from one thread;
 * in JavaScript it is the natural spelling, so it runs in call order (src/comm/README.md).
 */
import { describe, expect, it } from 'vitest';
import { DeadlockError, runRanks, type RankFunction } from '../dist/src/comm/index.js';
import { backends, type Backend } from './fixtures/comm/backends.js';

type Comm = Parameters<RankFunction>[0];

/** Rounds per communicator: enough that messages taken by the wrong call showed every run on threads. */
const kRounds = 60;

describe.each(backends)('%s', (backend: Backend) => {
  const run = <R>(np: number, code: (comm: Comm, rank: number, size: number, rounds: number) => Promise<R>) =>
    runRanks<R, number>({ np, backend, code: code as RankFunction<number>, data: kRounds, onOutput: () => {} });

  it.each([3, 4])('mixed blocking collectives in one Promise.all, on COMM_WORLD and on a dup, give exact results at np %i', async (np) => {
    const failures = await run(np, async (comm, rank, size, rounds) => {
      const { Op, IN_PLACE } = require('tslab-parallel');
      const cat = Op.create((a: number, b: number) => a * 10 ** String(b).length + b, false); // order-sensitive; at np 3 a reduce, then a Bcast
      const bad: string[] = [];
      const expect = (what: string, got: unknown, want: unknown) => {
        if (bad.length < 5 && JSON.stringify(got) !== JSON.stringify(want)) bad.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      };
      const dup = await comm.dup();
      for (const [name, c] of [['world', comm], ['dup', dup]] as const) {
        for (let round = 0; round < rounds; round++) {
          const one = new Float64Array([rank + round]);
          const pair = new Int32Array([rank * round, -rank]);
          const user = new Float64Array([rank + 1]);
          const bc = new Float64Array(2).fill(rank === round % size ? round : -1);
          const gathered = new Float32Array(2 * size);
          const nonblocking = new Float64Array([rank]);
          const [, , objSum, objMax, bcastObj, , , , gatheredObj] = await Promise.all([
            c.Allreduce(IN_PLACE, one, 'SUM'),
            c.Allreduce(IN_PLACE, pair, 'MAX'),
            c.allreduce(rank + round),
            c.allreduce({ v: rank * round }, Op.create((a: { v: number }, b: { v: number }) => ({ v: Math.max(a.v, b.v) }))),
            c.bcast(rank === 0 ? { round, from: 0 } : null, 0),
            c.Barrier(),
            c.Allgather(new Float32Array([rank, round]), gathered),
            c.Allreduce(IN_PLACE, user, cat),
            c.allgather(`${name}${rank}`),
            c.Bcast(bc, round % size),
            c.Iallreduce(IN_PLACE, nonblocking, 'SUM').wait(),
            c.barrier(),
          ]);
          const ranks = Array.from({ length: size }, (_, i) => i);
          const at = `${name} round ${round}`;
          expect(`${at} Allreduce SUM`, one[0], (size * (size - 1)) / 2 + size * round);
          expect(`${at} Allreduce MAX`, Array.from(pair), [(size - 1) * round, 0]);
          expect(`${at} allreduce`, objSum, (size * (size - 1)) / 2 + size * round);
          expect(`${at} allreduce user Op`, objMax, { v: (size - 1) * round });
          expect(`${at} bcast`, bcastObj, { round, from: 0 });
          expect(`${at} Allgather`, Array.from(gathered), ranks.flatMap((i) => [i, round]));
          expect(`${at} Allreduce user Op`, user[0], Number(ranks.map((i) => i + 1).join('')));
          expect(`${at} allgather`, gatheredObj, ranks.map((i) => `${name}${i}`));
          expect(`${at} Bcast`, Array.from(bc), [round, round]);
          expect(`${at} Iallreduce`, nonblocking[0], (size * (size - 1)) / 2);
        }
      }
      return bad;
    });
    expect(failures).toEqual(Array.from({ length: np }, () => []));
  });

  it('communicators made together (dup, split, createCart) beside other collectives, and used at once', async () => {
    const got = await run(4, async (comm, rank) => {
      const [a, half, , cart, sum] = await Promise.all([comm.dup(), comm.split(rank % 2), comm.bcast(rank === 0 ? 'x' : null), comm.createCart([2, 2]), comm.allreduce(rank)]);
      const [onA, onHalf, onCart] = await Promise.all([a!.allreduce(rank), half!.allgather(rank), cart!.allreduce(cart!.rank)]);
      return [sum, onA, onHalf, onCart, cart!.coords];
    });
    expect(got).toEqual([
      [6, 6, [0, 2], 6, [0, 0]],
      [6, 6, [1, 3], 6, [0, 1]],
      [6, 6, [0, 2], 6, [1, 0]],
      [6, 6, [1, 3], 6, [1, 1]],
    ]);
  });

  it('a dup still under way when a rank, after an await, calls the next collective: each completes, with its own result', async () => {
    // On mpi the Allreduce is native (it starts at the call) and the dup's MPI_Comm_split comes
    // after the dup's own messages: on rank 0 that is during its sleep, before its Allreduce.
    const got = await run(3, async (comm, rank) => {
      const { IN_PLACE } = require('tslab-parallel');
      const made = comm.dup();
      if (rank === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      const x = new Float64Array([rank + 1]);
      await comm.Allreduce(IN_PLACE, x, 'SUM');
      const dup = await made;
      return [x[0], await dup.allreduce(rank)];
    });
    expect(got).toEqual([0, 1, 2].map(() => [6, 3]));
  });

  it('ranks that start two blocking collectives in different orders are a deadlock report, not a hang', async () => {
    // Run in call order, rank 0 waits in the bcast for rank 1, which waits in the allreduce for rank 0.
    const code = `async (comm, rank) => {
      if (rank === 0) await Promise.all([comm.bcast(null, 1), comm.allreduce(rank)]);
      else await Promise.all([comm.allreduce(rank), comm.bcast('b', 1)]);
    }`;
    const err = await runRanks({ np: 2, backend, code, timeout: 0.5, onOutput: () => {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlockError);
    expect((err as DeadlockError).ranks).toEqual([
      { rank: 0, doing: 'waiting in bcast(root=1)' },
      { rank: 1, doing: 'waiting in allreduce(op=SUM)' },
    ]);
  });
});
