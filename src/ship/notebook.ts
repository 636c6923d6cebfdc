/**
 * The notebook's definitions, for shipping that is not given any: a `new Pool()` or
 * `parallelFor` written in a cell ships the notebook's functions just as `%pool`'s pool does.
 * The kernel installs them in its process context (util/process-context.ts); outside a kernel
 * there are none.
 */
import type { DefinitionLookup } from './types.js';
import { currentContext, defineSlot, type ProcessContext } from '../util/process-context.js';

const kDefinitionsSlot = defineSlot<DefinitionLookup | undefined>('ship.notebookDefinitions', () => undefined);

export function installNotebookDefinitions(definitions: DefinitionLookup, context: ProcessContext = currentContext()): () => void {
  return context.set(kDefinitionsSlot, definitions);
}

export function notebookDefinitions(context: ProcessContext = currentContext()): DefinitionLookup | undefined {
  return context.peek(kDefinitionsSlot);
}
