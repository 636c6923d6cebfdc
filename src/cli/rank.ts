/**
 * `tslab-parallel rank FILE [ARGS...]`: runs FILE as one rank of whatever launched this process —
 * `mpirun -np 4 npx tslab-parallel rank script.ts`, or `srun npx tslab-parallel rank script.ts`
 * under Slurm — so the code of a %%mpirun cell runs unchanged as a batch job. The rank uses the
 * Open MPI backend (the addon built by `npm run build:mpi`); started without a launcher it is a
 * world of one. The process's exit code: 0 when the script finished, else MPI_Abort's code.
 */
import { runStandaloneRank } from '../comm/mpi/standalone.js';

export const kRankUsage = `Usage: mpirun -np N npx tslab-parallel rank FILE [ARGS...]
       srun [-n N] npx tslab-parallel rank FILE [ARGS...]

Runs FILE (.ts, .js or .mjs) as this process's MPI rank. In the script, comm, rank and size come
from import { comm } from 'tslab-parallel' (comm.rank, comm.size), or from an exported
main(comm, rank, size) function, which is awaited. An uncaught error on any rank prints it and
calls MPI_Abort, which stops every rank. Without mpirun or srun the script runs as a single rank.

Needs the Open MPI addon: npm run build:mpi (npx tslab-parallel doctor says what is missing).`;

export async function rankCommand(argv: string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(kRankUsage + '\n');
    return 0;
  }
  const [file, ...args] = argv;
  if (file === undefined || file.startsWith('-')) {
    process.stderr.write(`tslab-parallel rank: ${file === undefined ? 'give the script to run' : `unknown option ${file}`}\n\n${kRankUsage}\n`);
    return 2;
  }
  if (!/\.([cm]?[jt]s|tsx)$/.test(file)) {
    process.stderr.write(`tslab-parallel rank: ${file} is not a .ts, .js or .mjs file; give the script to run, e.g. tslab-parallel rank simpson.ts\n`);
    return 2;
  }
  await runStandaloneRank({ file, args });
  return -1; // the rank ends the process itself (MPI_Finalize or MPI_Abort)
}
