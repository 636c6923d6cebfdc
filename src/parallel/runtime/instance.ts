/**
 * The process context's one parallel runtime (one thread team), installed where compiled code
 * finds it. Disposing the context (kernel detach) unsubscribes it from interrupts, stops its
 * team and puts back whatever runner compiled code found before.
 */
import { currentContext, defineSlot, type ProcessContext } from '../../util/process-context.js';
import { ParallelRuntime } from './runtime.js';
import { installedRuntime, installRuntimeGlobal, uninstallRuntimeGlobal } from './serial-runtime.js';

const kRuntimeSlot = defineSlot(
  'parallel.runtime',
  (context) => {
    const previous = installedRuntime();
    const runtime = new ParallelRuntime({ context });
    installRuntimeGlobal(runtime);
    return { runtime, previous };
  },
  ({ runtime, previous }) => {
    if (installedRuntime() === runtime) {
      if (previous) installRuntimeGlobal(previous);
      else uninstallRuntimeGlobal();
    }
    // Detach runs as the kernel exits: a team that fails to stop ends with the process.
    runtime.dispose().catch(() => undefined);
  },
);

export function parallelRuntime(context: ProcessContext = currentContext()): ParallelRuntime {
  return context.get(kRuntimeSlot).runtime;
}

/** Stops the team's worker threads (a later loop starts a new team). */
export async function shutdownParallel(context: ProcessContext = currentContext()): Promise<void> {
  await context.peek(kRuntimeSlot)?.runtime.shutdown();
}
