/**
 * The world communicator of the current rank. The rank entry installs it before the rank's
 * code runs; anywhere else (a plain Node program) it is made on first use as a one-rank world.
 * It hangs off globalThis under a Symbol.for key, so every copy of this package loaded in one
 * rank (the notebook's, a script's `import ... from 'tslab-parallel'`) shares it.
 */
import { Communicator } from './communicator.js';
import { SelfTransport } from './self.js';

const kWorld = Symbol.for('tslab-parallel.commWorld');

type WorldHolder = Record<symbol, Communicator | undefined>;

export function installWorld(comm: Communicator): void {
  (globalThis as unknown as WorldHolder)[kWorld] = comm;
}

/** COMM_WORLD of this rank (a one-rank world outside the launcher). */
export function world(): Communicator {
  const g = globalThis as unknown as WorldHolder;
  return (g[kWorld] ??= Communicator.world(new SelfTransport()));
}
