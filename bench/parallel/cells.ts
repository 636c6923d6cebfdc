/**
 * Runs benchmark "cells" the way the kernel would, without a kernel: a %%parallel cell is
 * compiled by src/parallel's compiler, transpiled to CommonJS by TypeScript and run with vm;
 * its top-level functions come back by name.
 */
import * as vm from 'node:vm';
import ts from 'typescript';
import { compileParallelCell, formatMessage, parallelRuntime, prange, shared, numThreads, threadId, type Schedule } from '../../src/parallel/index.js';

export interface CellOptions {
  /** Compile as a %%parallel cell with this team size. */
  readonly threads?: number;
  readonly schedule?: Schedule;
  /** Plain TypeScript: no %%parallel compilation. */
  readonly serial?: boolean;
}

/** Runs a cell; returns its top-level declarations. */
export function runCell(source: string, options: CellOptions = {}): Record<string, unknown> {
  parallelRuntime(); // installs the runtime compiled code calls
  let code = source;
  if (!options.serial) {
    const compiled = compileParallelCell(source, {
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
    });
    if (compiled.hasErrors || compiled.messages.length > 0) throw new Error(compiled.messages.map(formatMessage).join('\n'));
    code = compiled.code;
  }
  const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const exports: Record<string, unknown> = {};
  const names = { prange, shared, numThreads, threadId };
  const fn = vm.runInThisContext(`(function (exports, require, prange, shared, numThreads, threadId) {${js}\n})`) as (
    ...args: unknown[]
  ) => void;
  fn(exports, require, names.prange, names.shared, names.numThreads, names.threadId);
  return exports;
}
