/** Every magic the kernel knows, in one registry. */
import { envLine } from './env.js';
import { lsmagic } from './lsmagic.js';
import { mpirunCell, mpirunLine } from './mpirun.js';
import { parallelCell } from './parallel.js';
import { poolLine } from './pool.js';
import { MagicRegistry } from './registry.js';
import { shCell } from './sh.js';
import { timeCell, timeLine } from './time.js';
import { timeitCell, timeitLine } from './timeit.js';
import { timelineCell } from './timeline.js';
import { scalingLine } from './scaling.js';

export function createMagicRegistry(): MagicRegistry {
  const registry = new MagicRegistry();
  registry.add(timeLine, timeCell, timeitLine, timeitCell, shCell, envLine);
  registry.add(poolLine, parallelCell, mpirunCell, mpirunLine);
  registry.add(timelineCell, scalingLine);
  registry.add(lsmagic(registry));
  return registry;
}

export { MagicRegistry } from './registry.js';
export { UsageError, type MagicContext, type MagicSpec } from './types.js';
