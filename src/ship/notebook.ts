/**
 * The notebook's definitions, for shipping that is not given any: a `new Pool()` or
 * `parallelFor` written in a cell ships the notebook's functions just as `%pool`'s pool does.
 * The kernel installs them; outside a kernel there are none. Kept on globalThis under a
 * Symbol.for key so every copy of this package in the kernel process sees the same.
 */
import type { DefinitionLookup } from './types.js';

const kDefinitions = Symbol.for('tslab-parallel.notebookDefinitions');
type Holder = Record<symbol, DefinitionLookup | undefined>;

export function installNotebookDefinitions(definitions: DefinitionLookup): () => void {
  const g = globalThis as unknown as Holder;
  const previous = g[kDefinitions];
  g[kDefinitions] = definitions;
  return () => {
    g[kDefinitions] = previous;
  };
}

export function notebookDefinitions(): DefinitionLookup | undefined {
  return (globalThis as unknown as Holder)[kDefinitions];
}
