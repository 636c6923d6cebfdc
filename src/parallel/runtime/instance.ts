/** The process's one parallel runtime (one thread team), installed where compiled code finds it. */
import { ParallelRuntime } from './runtime.js';
import { installRuntimeGlobal } from './serial-runtime.js';

let instance: ParallelRuntime | undefined;

export function parallelRuntime(): ParallelRuntime {
  if (!instance) {
    instance = new ParallelRuntime();
    installRuntimeGlobal(instance);
  }
  return instance;
}

/** Stops the team's worker threads (a later loop starts a new team). */
export async function shutdownParallel(): Promise<void> {
  await instance?.shutdown();
}
