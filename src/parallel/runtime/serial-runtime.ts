/**
 * Compiled cells reach the runtime through one global, `__tsp_parallel` (util/global-object.ts), so that
 * the same compiled code works on the kernel's main thread (the team runtime), inside team
 * workers and in shipped copies of a %%parallel function (a serial runtime: nested loops run
 * serially, as in Numba).
 */
import type { ChunkFunction, LoopSpec } from '../spec.js';
import { runSerially } from './serial.js';
import { createThreadContext } from './thread-state.js';
import { defineGlobal, deleteGlobal, readGlobal } from '../../util/global-object.js';

export const kRuntimeGlobal = '__tsp_parallel';

/** What compiled code calls. */
export interface CompiledLoopRunner {
  run(
    spec: LoopSpec,
    captured: unknown[],
    reductionInit: unknown[],
    sharedInit: unknown[],
    start: number,
    stop: number,
    step: number,
    body: ChunkFunction,
  ): unknown[];
}

export function installRuntimeGlobal(runner: CompiledLoopRunner): void {
  defineGlobal(kRuntimeGlobal, runner);
}

export function uninstallRuntimeGlobal(): void {
  deleteGlobal(kRuntimeGlobal);
}

export function installedRuntime(): CompiledLoopRunner | undefined {
  return readGlobal(kRuntimeGlobal) as CompiledLoopRunner | undefined;
}

/**
 * In a thread or process that receives shipped code (pool workers, ranks): a %%parallel function
 * shipped there runs its loops serially unless a runtime is already installed.
 */
export function ensureSerialRuntime(): void {
  if (!installedRuntime()) installSerialRuntime();
}

/** Installs a runner that runs every loop serially on the calling thread. */
export function installSerialRuntime(): void {
  installRuntimeGlobal({
    run: (spec, captured, reductionInit, sharedInit, start, stop, step, body) =>
      runSerially(spec, captured, reductionInit, sharedInit, start, stop, step, body, createThreadContext()),
  });
}
