/**
 * What a rank learns from its environment: whether a launcher started it as an MPI rank
 * (mpirun and srun set these variables before the program starts, on every host), and how
 * hard it may spin while it waits.
 */
import * as os from 'node:os';
import type { MpiTransportOptions } from './transport.js';

/** Set by Open MPI's mpirun, MPICH's Hydra, PMIx launchers and Slurm's srun. */
const kRankVariables = ['OMPI_COMM_WORLD_RANK', 'PMIX_RANK', 'PMI_RANK', 'MPI_LOCALRANKID', 'SLURM_PROCID'] as const;

/** The variable that says this process is an MPI rank, or undefined outside a launcher. */
export function launcherVariable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return kRankVariables.find((name) => env[name] !== undefined && env[name] !== '');
}

/** How many ranks share this host, as the launcher says (else the world size, else 1). */
function localRanks(env: NodeJS.ProcessEnv): number {
  for (const name of ['OMPI_COMM_WORLD_LOCAL_SIZE', 'MPI_LOCALNRANKS', 'SLURM_NTASKS_PER_NODE', 'OMPI_COMM_WORLD_SIZE', 'PMI_SIZE']) {
    const n = Number(env[name]);
    if (Number.isInteger(n) && n > 0) return n;
  }
  return 1;
}

/**
 * Spin while every rank of this host has a core of its own: a waiting rank then gets its
 * message a microsecond after it lands. With more ranks than cores a spinning rank steals the
 * core its partner needs, so it parks at once and its progress thread yields, then sleeps.
 * TSLAB_PARALLEL_MPI_SPIN_US overrides the spin (0: park at once; benchmarks measure both).
 */
export function waitPolicy(env: NodeJS.ProcessEnv = process.env): MpiTransportOptions {
  // The host's cores, not this process's affinity: mpirun binds each rank to a core of its own.
  const crowded = localRanks(env) > os.cpus().length;
  const override = Number(env.TSLAB_PARALLEL_MPI_SPIN_US);
  const spinUs = env.TSLAB_PARALLEL_MPI_SPIN_US !== undefined && override >= 0 ? override : crowded ? 0 : 50;
  return {
    spinNs: spinUs * 1000,
    backoff: crowded
      ? { spinNs: 0, yieldNs: 100_000, maxSleepNs: 1_000_000 }
      : { spinNs: 20_000, yieldNs: 200_000, maxSleepNs: 500_000 },
  };
}
