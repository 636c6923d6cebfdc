/**
 * mpi4py code pasted into a kernel cell runs as written, on every backend: Split, Dup,
 * Create_cart, Shift, Get_coords, Get_cart_rank, Get_topo, Op.Create (mpi4py's
 * (invec, inoutvec, datatype) convention, commute=False by default) and Get_processor_name,
 * with mpi4py's arguments, giving what the camel-case names give.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { useKernelSession } from './helpers/kernel-session.js';

const kImports = "import { Op, IN_PLACE, UNDEFINED, PROC_NULL, Get_processor_name } from 'tslab-parallel';";

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
