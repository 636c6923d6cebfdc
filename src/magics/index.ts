/** Every magic the kernel knows, in one registry. */
import { envLine } from './env.js';
import { lsmagic } from './lsmagic.js';
import { mpirunCell, mpirunLine } from './mpirun.js';
import { parallelCell } from './parallel.js';
import { poolLine } from './pool.js';
import { runLine } from './run.js';
import { MagicRegistry } from './registry.js';
import { shCell, sxLine } from './sh.js';
import { timeCell, timeLine } from './time.js';
import { timeitCell, timeitLine } from './timeit.js';
import { whoLine, whoLsLine, whosLine } from './who.js';
import { writefileCell } from './writefile.js';
import { timelineCell } from './timeline.js';
import { scalingLine } from './scaling.js';

export function createMagicRegistry(): MagicRegistry {
  const registry = new MagicRegistry();
  registry.add(timeLine, timeCell, timeitLine, timeitCell, shCell, envLine);
  registry.add(poolLine, parallelCell, mpirunCell, mpirunLine);
  registry.add(writefileCell);
  registry.add(runLine);
  registry.add(whoLine, whoLsLine, whosLine);
  registry.add(sxLine);
  registry.add(timelineCell, scalingLine);
  registry.add(lsmagic(registry));
  return registry;
}

export { MagicRegistry } from './registry.js';
export { UsageError, type MagicContext, type MagicSpec } from './types.js';
