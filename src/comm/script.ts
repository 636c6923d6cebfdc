/**
 * runScript: a script file as N ranks, as `mpirun -np N node file.js args` would run it.
 * .ts files are transpiled on load (CommonJS, inline source maps, so stacks show .ts lines);
 * inside, `import { comm } from 'tslab-parallel'` is the rank's world communicator.
 */
import { runRanks, type RunRanksOptions } from './launcher.js';

export type ScriptOptions = Omit<RunRanksOptions, 'code' | 'script' | 'args' | 'shipment' | 'entry' | 'data'>;

/** Resolves with what each rank's exported main(comm, rank, size) returned (undefined without one). */
export function runScript<R = unknown>(file: string, args: readonly string[], options: ScriptOptions): Promise<R[]> {
  return runRanks<R>({ ...options, script: file, args });
}
