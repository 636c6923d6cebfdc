/**
 * Starting and ending an MPI rank, whoever launched it: MPI_Init_thread through the addon, and
 * on the way out MPI_Finalize after a clean finish or MPI_Abort after a failure, so that a
 * failing rank never leaves the others waiting for it (mpi4py's `-m mpi4py` does the same).
 */
import { MpiErrors } from './errors.js';
import { waitPolicy } from './environment.js';
import { loadNative, type NativeMpi } from './native.js';
import { MpiTransport, type MpiHooks } from './transport.js';

export interface StartedRank {
  readonly transport: MpiTransport;
  readonly mpi: NativeMpi;
  /** Ends the process: MPI_Finalize and exit for code 0, MPI_Abort(code) otherwise. */
  end(code: number): never;
}

export interface StartHooks extends Omit<MpiHooks, 'abort'> {
  /** comm.abort(code) was called: say so before MPI_Abort. */
  abort?(code: number): void;
  /**
   * The program called process.exit(code) itself: say so, and return the code to end with
   * (0: MPI_Finalize, anything else: MPI_Abort with it). Default: `code`.
   */
  exiting?(code: number): number;
}

export function startRank(hooks: StartHooks): StartedRank {
  const mpi = loadNative();
  let transport: MpiTransport;
  try {
    transport = new MpiTransport(
      mpi,
      {
        ...hooks,
        abort(code) {
          hooks.abort?.(code);
          return mpi.abort(code);
        },
      },
      waitPolicy(),
    );
  } catch (err) {
    throw MpiErrors.InitFailed(err instanceof Error ? err.message : String(err));
  }
  let ending = false;
  const end = (code: number): never => {
    ending = true;
    if (code !== 0) return mpi.abort(code);
    mpi.finalize();
    return process.exit(0);
  };
  // A program that calls process.exit() itself: finalize (or abort) on the way out all the same.
  process.on('exit', (exitCode) => {
    if (ending) return;
    ending = true;
    const code = hooks.exiting ? hooks.exiting(exitCode) : exitCode;
    if (code !== 0) mpi.abort(code);
    else mpi.finalize();
  });
  return { transport, mpi, end };
}
