// Simpson's rule for the integral of exp on [0, 1], split over the ranks of an MPI-style run.
//   in a notebook:   %mpirun -np 4 scripts/simpson-mpi.ts 0.001
//   from a shell:    npx tslab-parallel mpirun -np 4 notebooks/scripts/simpson-mpi.ts 0.001
//   on a cluster:    add --backend mpi (Open MPI's mpirun starts the ranks)
import { comm } from 'tslab-parallel';

function integrate(x1: number, x2: number, fun: (x: number) => number, dx: number): number {
  let n = Math.ceil((x2 - x1) / dx);
  if ((n & 1) === 0) n = n + 1; // an odd number of points
  const h = (x2 - x1) / (n - 1);
  let tot = fun(x1) + fun(x2);
  for (let i = 1; i < n - 1; i++) tot += (2 + 2 * (i & 1)) * fun(x1 + i * h);
  return (h * tot) / 3;
}

const dx = Number(process.argv[2] ?? 0.001);
const rank = comm.rank;
const size = comm.size;
const myx0 = rank / size;
const myx1 = (rank + 1) / size;
const mine = integrate(myx0, myx1, Math.exp, dx);
const total = await comm.allreduce(mine);
if (rank === 0) console.log(`${size} ranks, dx = ${dx}: integral ${total}, error ${(total - (Math.E - 1)).toExponential(2)}`);
