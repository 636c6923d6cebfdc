/**
 * The world communicator of the current rank: a slot of the process context
 * (util/process-context.ts). The rank entry installs it before the rank's code runs; anywhere
 * else (a plain Node program) it is made on first use as a one-rank world.
 */
import { currentContext, defineSlot, type ProcessContext } from '../util/process-context.js';
import { Communicator } from './communicator.js';
import { SelfTransport } from './self.js';

const kWorldSlot = defineSlot('comm.world', () => Communicator.world(new SelfTransport()));

export function installWorld(comm: Communicator, context: ProcessContext = currentContext()): void {
  context.set(kWorldSlot, comm);
}

/** COMM_WORLD of this rank (a one-rank world outside the launcher). */
export function world(context: ProcessContext = currentContext()): Communicator {
  return context.get(kWorldSlot);
}
