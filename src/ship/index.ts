/**
 * Shipping, main side: turns functions of a notebook (or of a plain Node program) into a
 * self-contained module that a worker thread, a child process or an MPI rank loads with
 * loadShipment() (./load.ts). See README.md in this directory for the conventions.
 */
import { notebookDefinitions } from './notebook.js';
import type { CodeTarget, DefinitionLookup } from './types.js';
import type { ProcessContext } from '../util/process-context.js';
import { emitModule, type EntryCode } from './emit.js';
import { Resolver } from './resolve.js';
import type { Shipment } from './shipment.js';

export type { Shipment, ShippedSegment } from './shipment.js';
export type { ResolvedImport } from './imports.js';
export type { CodeTarget, DefinitionLookup, Definition, ImportSpec, SourceOrigin } from './types.js';
export { Errors, Reasons, UnshippableError, type UnshippableReason } from './errors.js';
export { partial, isPartial, partialParts, type PartialParts } from './partial.js';
export { compileTypeScriptModule } from './compile-ts.js';
export { loadShipment, mapShippedStack } from './load.js';

export interface ShipOptions {
  /**
   * The notebook's definitions; without them those the kernel installed in `context` (default:
   * the current process context), else only globals and arguments may be used.
   */
  readonly definitions?: DefinitionLookup;
  readonly context?: ProcessContext;
  /** Directory require() resolves from in the worker; default definitions.cwd, else process.cwd(). */
  readonly cwd?: string;
}

/**
 * Builds a shipment whose module returns one function per key of `targets`.
 * Throws UnshippableError (see ./errors.ts) naming the variable, its cell, why, and the fix.
 */
export function ship(targets: Record<string, Function | CodeTarget>, options: ShipOptions = {}): Shipment {
  // In a kernel, code shipped without definitions (a pool made in a cell) still finds the notebook's.
  const definitions = options.definitions ?? notebookDefinitions(options.context);
  const cwd = options.cwd ?? definitions?.cwd ?? process.cwd();
  const resolver = new Resolver(definitions, cwd);
  const entries: { key: string; binding: string }[] = [];
  const entryCode: EntryCode[] = [];
  Object.entries(targets).forEach(([key, target], index) => {
    if (typeof target === 'function') {
      entries.push({ key, binding: resolver.bindTarget(key, target) });
    } else {
      const code = resolver.bindCode(key, target, index);
      entryCode.push(code);
      entries.push({ key, binding: code.name });
    }
  });
  const emitted = emitModule(resolver.bindings, entries, entryCode);
  const imports = [...resolver.bindings.values()].flatMap((b) => (b.kind === 'import' ? [b.imp] : []));
  return {
    id: emitted.id,
    code: emitted.code,
    data: emitted.data,
    entries: entries.map((e) => e.key),
    cwd,
    segments: emitted.segments,
    imports,
    sourceMaps: imports.some((i) => i.compiled),
  };
}
