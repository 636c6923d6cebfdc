/**
 * A loop on one thread, with the same data-sharing rules as a parallel one (reductions start
 * from the identity and are combined with the starting value; shared scalars go through a
 * slot). Used for nested loops (inside another loop's body, as Numba does), for one-thread
 * teams, and on workers.
 */
import type { ChunkFunction, LoopSpec, ThreadContext } from '../spec.js';
import { iterationCount } from '../range.js';
import { combine, fromSlot, identityOf, toSlot } from './reduce.js';
import { int } from './schedule.js';

export function runSerially(
  spec: LoopSpec,
  captured: unknown[],
  reductionInit: readonly unknown[],
  sharedInit: readonly unknown[],
  start: number,
  stop: number,
  step: number,
  body: ChunkFunction,
  ctx: ThreadContext,
): unknown[] {
  const count = iterationCount(start, stop, step);
  const red = spec.reductions.map((r, k) => identityOf(r.op, reductionInit[k], r.name, spec.line));
  const slots = new Float64Array(Math.max(1, spec.shared.length));
  spec.shared.forEach((name, k) => (slots[k] = toSlot(sharedInit[k], name, spec.line)));
  ctx.at = undefined;
  if (count > 0) body(0, int(count), int(start), int(step), captured, red, slots, ctx);
  return [
    ...spec.reductions.map((r, k) => combine(r.op, reductionInit[k], red[k])),
    ...spec.shared.map((_, k) => fromSlot(slots[k]!, sharedInit[k])),
  ];
}
