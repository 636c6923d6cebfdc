/**
 * mpi4py code pasted into a kernel cell runs as written, on every backend: Split, Dup,
 * Create_cart, Shift, Get_coords, Get_cart_rank, Get_topo, Op.Create (mpi4py's
 * (invec, inoutvec, datatype) convention, commute=False by default) and Get_processor_name,
 * with mpi4py's arguments, giving what the camel-case names give; and the typed and
 * nonblocking collectives as mpi4py code uses them.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { useKernelSession } from './helpers/kernel-session.js';

const kImports = "import { Op, IN_PLACE, UNDEFINED, PROC_NULL, Get_processor_name, Request, MPI } from 'tslab-parallel';";

const kCell = `const half = await comm.Split(rank % 2, rank);
const reversed = await comm.Split(0, -rank);
const plain = await comm.Split();
const none = await comm.Split(rank === 3 ? UNDEFINED : 1);
const dup = await comm.Dup();
const cart = await comm.Create_cart([2, 2], [true, false]);
const camel = await comm.createCart([2, 2], [true, false]);
const byDefault = await comm.Create_cart([4]);
const concat = Op.Create((x: string, y: string) => x + y);
// Digit concatenation: associative, not commutative; written in place as MPI's user functions are.
const digits = Op.Create((invec: Float64Array, inoutvec: Float64Array) => {
  for (let i = 0; i < invec.length; i++) inoutvec[i] = invec[i] * 10 ** String(inoutvec[i]).length + inoutvec[i];
});
const buf = new Float64Array([rank + 1, 1]);
await comm.Allreduce(IN_PLACE, buf, digits);
const atRoot = new Float64Array(2);
await comm.Reduce(new Float64Array([rank + 1, 2]), rank === 2 ? atRoot : null, digits, 2);
const nul = (r: number) => (r === PROC_NULL ? 'null' : r);
const out = {
  half: [half.rank, half.size, await half.allreduce(rank)],
  reversed: reversed.rank,
  plain: [plain.rank, plain.size],
  none: none === null ? null : none.size,
  dup: [dup.rank, dup.size, await dup.allreduce(1)],
  topo: cart.Get_topo(),
  dim: [cart.Get_dim(), cart.ndim],
  coords: [cart.Get_coords(3), camel.getCoords(3)],
  cartRank: [cart.Get_cart_rank([1, 0]), camel.getCartRank([1, 0])],
  shift: [cart.Shift(0, 1), cart.Shift(1, 1), camel.shift(1, 1)].map((p) => p.map(nul)),
  line: byDefault.Shift(0, 1).map(nul),
  ordered: await comm.allreduce(String(rank), concat),
  commute: [concat.commute, Op.Create((x: string, y: string) => y + x, true).commute],
  digits: Array.from(buf),
  reduced: rank === 2 ? Array.from(atRoot) : null,
  host: Get_processor_name(),
};
console.log(JSON.stringify(out));`;

describe.each(backends)('%s', (backend: Backend) => {
  const k = useKernelSession();

  it('runs the mpi4py spellings as pasted and matches the camel-case names at np 4', async () => {
    expect((await k.run(kImports)).status).toBe('ok');
    const r = await k.run(`%%mpirun -np 4 --backend ${backend}\n${kCell}`);
    expect(r.error?.evalue).toBeUndefined();
    expect(r.status).toBe('ok');
    const got = r.stdout.trim().split('\n').sort().map((line) => JSON.parse(line.replace(/^\[rank \d\] /, '')) as unknown);
    expect(got).toEqual([0, 1, 2, 3].map((rank) => {
      const [row, col] = [rank >> 1, rank & 1];
      return {
        half: [rank >> 1, 2, rank % 2 === 0 ? 2 : 4],
        reversed: 3 - rank,
        plain: [rank, 4],
        none: rank === 3 ? null : 3,
        dup: [rank, 4, 4],
        topo: [[2, 2], [true, false], [row, col]],
        dim: [2, 2],
        coords: [[1, 1], [1, 1]],
        cartRank: [2, 2],
        shift: [[rank ^ 2, rank ^ 2], col === 0 ? ['null', rank + 1] : [rank - 1, 'null'], col === 0 ? ['null', rank + 1] : [rank - 1, 'null']],
        line: [rank === 0 ? 'null' : rank - 1, rank === 3 ? 'null' : rank + 1],
        ordered: '0123',
        commute: [false, true],
        digits: [1234, 1111],
        reduced: rank === 2 ? [1234, 2222] : null,
        host: hostname(),
      };
    }));
  }, 120_000);

  it('typed and nonblocking collectives compile and run in a kernel cell as mpi4py code uses them', async () => {
    expect((await k.run(kImports)).status).toBe('ok');
    const r = await k.run(`%%mpirun -np 3 --backend ${backend}
const counts = Array.from({ length: size }, (_, i) => i + 1);
const all = new Float64Array(counts.reduce((a, b) => a + b, 0));
await comm.Allgatherv(new Float64Array(counts[rank]).fill(rank), [all, counts]);
const pieces = new Int32Array(size);
await comm.Alltoall(Int32Array.from({ length: size }, (_, i) => 10 * rank + i), pieces);
const mine = new Float64Array(1);
await comm.Reduce_scatter_block(new Float64Array(size).fill(rank + 1), mine, 'SUM');
const prefix = new Int32Array(1);
await comm.Exscan(new Int32Array([rank + 1]), prefix);
const total = new Float64Array([rank]);
const b = new Float64Array(2).fill(rank === 0 ? 4 : 0);
const requests = [comm.Iallreduce(IN_PLACE, total, 'SUM'), comm.Ibcast(b, 0), comm.Ibarrier()];
let done = 0;
for (;;) {
  const [indices] = await Request.waitsome(requests);
  if (indices === undefined) break;
  done += indices.length;
}
console.log(JSON.stringify({ all: Array.from(all), pieces: Array.from(pieces), mine: mine[0], prefix: rank ? prefix[0] : null, total: total[0], b: Array.from(b), done }));`);
    expect(r.error?.evalue).toBeUndefined();
    expect(r.status).toBe('ok');
    const got = r.stdout.trim().split('\n').sort().map((line) => JSON.parse(line.replace(/^\[rank \d\] /, '')) as unknown);
    expect(got).toEqual([0, 1, 2].map((rank) => ({
      all: [0, 1, 1, 2, 2, 2],
      pieces: [0, 1, 2].map((q) => 10 * q + rank),
      mine: 6,
      prefix: [null, 1, 3][rank],
      total: 3,
      b: [4, 4],
      done: 3,
    })));
  }, 120_000);

  it('MPI, shaped like mpi4py’s module: COMM_WORLD, the ops, Request, Compute_dims, Wtime', async () => {
    expect((await k.run(kImports)).status).toBe('ok');
    const r = await k.run(`%%mpirun -np 3 --backend ${backend}
const world = MPI.COMM_WORLD;
const recvbuf = new Float64Array(1);
await world.Reduce(new Float64Array([world.Get_rank() + 1]), world.Get_rank() === 0 ? recvbuf : null, MPI.SUM, 0);
await MPI.Request.Waitall([world.Ibarrier(), world.Iallreduce(MPI.IN_PLACE, new Int32Array(1), MPI.MAX)]);
const t = MPI.Wtime();
console.log(JSON.stringify({ same: world === comm, reduced: rank === 0 ? recvbuf[0] : null, dims: MPI.Compute_dims(size, 2), clock: t > 0 && MPI.Wtime() >= t, host: MPI.Get_processor_name() === Get_processor_name() }));`);
    expect(r.error?.evalue).toBeUndefined();
    expect(r.status).toBe('ok');
    const got = r.stdout.trim().split('\n').sort().map((line) => JSON.parse(line.replace(/^\[rank \d\] /, '')) as unknown);
    expect(got).toEqual([0, 1, 2].map((rank) => ({ same: true, reduced: rank === 0 ? 6 : null, dims: [3, 1], clock: true, host: true })));
  }, 120_000);

  it('Split with a bad colour and Op.Create without a function say what to pass, and the kernel goes on', async () => {
    const bad = await k.run(`%%mpirun -np 2 --backend ${backend}\nawait comm.Split(-5);`);
    expect(bad.status).toBe('error');
    expect(bad.error?.evalue).toContain('color=-5 is not a non-negative integer');
    const op = await k.run('Op.Create(42 as never)');
    expect(op.status).toBe('error');
    expect(op.error?.evalue).toContain('Op.Create: function must be a function');
    expect((await k.run('1 + 1')).result).toBe('2');
  }, 60_000);
});
