/**
 * Received objects are usable as the values they are: in a kernel cell, `ans = ans + await
 * comm.recv(i)` (and the same with every lower-case call that hands back what another rank
 * sent) compiles without a type argument and gives the serial answer, on every backend.
 */
import { describe, expect, it } from 'vitest';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { useKernelSession } from './helpers/kernel-session.js';

// Each line adds a received value with `+` or calls a method on it: `unknown` would fail to compile.
const kCell = `let ans = 0;
if (rank === 0) {
  for (let i = 1; i < size; i++) ans = ans + await comm.recv(i);
} else {
  await comm.send(rank, 0);
}
const fromIrecv = rank === 0 ? await comm.irecv(size - 1, 5).wait() + 0 : (rank === size - 1 ? await comm.send(rank * 10, 0, 5) : undefined);
const fromSendrecv = (await comm.sendrecv(rank, (rank + 1) % size, 0, (rank + size - 1) % size)) * 2;
const fromBcast = (await comm.bcast(rank === 0 ? 'root' : null)).toUpperCase();
const fromScatter = 1 + await comm.scatter(rank === 0 ? [10, 20, 30] : null);
const fromGather = rank === 0 ? (await comm.gather(rank + 1)).reduce((a, b) => a + b, 0) : await comm.gather(rank + 1);
const fromAllgather = (await comm.allgather(rank)).map((r) => r * r);
const fromAlltoall = (await comm.alltoall([0, 1, 2].map((i) => rank * 10 + i))).join(',');
const fromReduce = rank === 0 ? (await comm.reduce(rank)) + 100 : await comm.reduce(rank);
const fromAllreduce = (await comm.allreduce(rank)) + 0.5;
const fromScan = (await comm.scan(rank + 1)) * 10;
const fromExscan = rank === 0 ? (await comm.exscan(rank + 1), 0) : (await comm.exscan(rank + 1)) * 10;
const all = { ans, fromIrecv, fromSendrecv, fromBcast, fromScatter, fromGather, fromAllgather, fromAlltoall, fromReduce, fromAllreduce, fromScan, fromExscan };
console.log(JSON.stringify(all));`;

describe.each(backends)('%s', (backend: Backend) => {
  const k = useKernelSession();

  it('received values of every lower-case call compile as any and give the serial answers at np 3', async () => {
    const r = await k.run(`%%mpirun -np 3 --backend ${backend}\n${kCell}`);
    expect(r.error?.evalue).toBeUndefined();
    expect(r.status).toBe('ok');
    const got = r.stdout.trim().split('\n').sort().map((line) => JSON.parse(line.replace(/^\[rank \d\] /, '')) as unknown);
    expect(got).toEqual([0, 1, 2].map((rank) => ({
      ans: rank === 0 ? 1 + 2 : 0,
      fromIrecv: rank === 0 ? 20 : undefined,
      fromSendrecv: ((rank + 2) % 3) * 2,
      fromBcast: 'ROOT',
      fromScatter: 1 + 10 * (rank + 1),
      fromGather: rank === 0 ? 6 : undefined,
      fromAllgather: [0, 1, 4],
      fromAlltoall: [0, 1, 2].map((i) => i * 10 + rank).join(','),
      fromReduce: rank === 0 ? 103 : undefined,
      fromAllreduce: 3.5,
      fromScan: [1, 3, 6][rank]! * 10,
      fromExscan: [0, 10, 30][rank],
    })).map((o) => JSON.parse(JSON.stringify(o)) as unknown));
  }, 120_000);
});
