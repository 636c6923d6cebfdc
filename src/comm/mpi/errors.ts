/**
 * Errors of the Open MPI backend, each from a named factory whose message ends with the fix.
 * (The comm layer's own errors, truncation and the like, come from ../errors.ts.)
 */
import { kControlHostVariable as kControlHost, kControlPortVariable as kControlPort } from './control-hosts.js';

const kDoctor = 'run `npx tslab-parallel doctor` to see what is missing';

export const MpiErrors = {
  AddonMissing(file: string): Error {
    return named(
      'MpiUnavailable',
      `{ backend: 'mpi' } needs the Open MPI addon, which is not built (no ${file}); ` +
        `install Open MPI with its headers (Debian: sudo apt-get install openmpi-bin libopenmpi-dev pkg-config), ` +
        `then run \`npm run build:mpi\` in the tslab-parallel package; ${kDoctor}`,
    );
  },
  AddonBroken(file: string, reason: string): Error {
    return named(
      'MpiUnavailable',
      `the Open MPI addon ${file} does not load (${reason}); rebuild it against the installed MPI with ` +
        `\`npm run build:mpi\`; ${kDoctor}`,
    );
  },
  InitFailed(reason: string): Error {
    return named(
      'MpiUnavailable',
      `MPI_Init_thread failed: ${reason}; start ranks with mpirun or srun (e.g. mpirun -np 4 npx tslab-parallel rank script.ts); ${kDoctor}`,
    );
  },
  MpirunMissing(command: string): Error {
    return named(
      'MpiUnavailable',
      `{ backend: 'mpi' } needs '${command}', which is not on PATH; install Open MPI ` +
        `(Debian: sudo apt-get install openmpi-bin), or set TSLAB_PARALLEL_MPIRUN to your launcher; ${kDoctor}`,
    );
  },
  RunAsRoot(): Error {
    return named(
      'MpiUnavailable',
      'Open MPI refuses to run as root; if you mean to (containers, CI), set OMPI_ALLOW_RUN_AS_ROOT=1 and ' +
        'OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in the environment (or pass --mpirun-args "--allow-run-as-root")',
    );
  },
  LauncherFailed(code: number | null, signal: string | null, output: string): Error {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const said = output.trim() ? `; it said:\n${output.trim()}` : '';
    return named('MpiLaunchError', `mpirun ${how} before every rank had started${said}\nCheck the mpirun arguments and hostfile; ${kDoctor}`);
  },
  StartTimeout(seconds: number, connected: number, np: number, given: string, why: string): Error {
    return named(
      'MpiLaunchError',
      `only ${connected} of ${np} ranks reported in within ${seconds} s of starting mpirun; they were given ${given} (${why}) ` +
        `to connect back to; on other hosts, ranks must reach this machine there (set ${kControlHost} to an address they ` +
        `can connect to; let TCP to that port through the firewall, ${kControlPort} fixes it) and find node and this package ` +
        `at the same paths`,
    );
  },
  /** Ranks said they could not connect back (lines of entry.ts, found in mpirun's output). */
  ControlUnreachable(ranks: readonly { rank: number; host: string; tried: string }[], given: string, why: string): Error {
    const hosts = [...new Set(ranks.map((r) => r.host))].join(', ');
    const shown = ranks.slice(0, 4).map((r) => `rank ${r.rank} on ${r.host}: ${r.tried}`);
    if (ranks.length > 4) shown.push(`… ${ranks.length - 4} more`);
    return named(
      'MpiLaunchError',
      `ranks on ${hosts} could not connect back to this machine at ${given} (${why}): ${shown.join('; ')}; set ` +
        `${kControlHost} to an address of this machine that ${hosts} can reach, and let TCP connections to that port ` +
        `through the firewall (${kControlPort} fixes the port for a rule)`,
    );
  },
  ControlLost(): Error {
    return named('MpiLaunchError', 'the connection to the launcher (the notebook kernel) was lost, so this rank stops');
  },
};

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}
