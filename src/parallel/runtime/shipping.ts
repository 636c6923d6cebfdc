/**
 * The one place the parallel runtime meets src/ship (main side): loop bodies and the functions
 * they call become shipments that workers load once and then name by handle.
 */
import { ship, UnshippableError, type Shipment } from '../../ship/index.js';
import type { DefinitionLookup } from '../../ship/types.js';
import type { ChunkFunction, LoopSpec } from '../spec.js';

export type { Shipment };

/** A loop body, by its compiled JavaScript. It only names globals and its parameters. */
export function shipLoopBody(spec: LoopSpec, body: ChunkFunction, definitions: DefinitionLookup | undefined): Shipment {
  const code = String(body);
  const origin = spec.anchor && definitions ? safeLocate(definitions, spec.anchor, code) : undefined;
  return ship({ body: { code, ...(origin ? { origin } : {}) } }, definitions ? { definitions } : {});
}

/** A function a loop body calls, with whatever it needs from the notebook. */
export function shipFunction(name: string, fn: Function, definitions: DefinitionLookup | undefined): Shipment {
  return ship({ [name]: fn }, definitions ? { definitions } : {});
}

/**
 * A notebook value that structured clone cannot carry (an imported module, an object with
 * methods): shipped as `() => name`, re-created on the worker by src/ship (imports by require).
 */
export function shipByName(name: string, definitions: DefinitionLookup | undefined): Shipment | undefined {
  if (!definitions?.lookup(name)) return undefined;
  return ship({ value: { code: `function () { return ${name}; }` } }, { definitions });
}

export function isUnshippable(err: unknown): err is UnshippableError {
  return err instanceof UnshippableError;
}

function safeLocate(definitions: DefinitionLookup, anchor: string, code: string) {
  try {
    return definitions.lookup(anchor)?.locate(code);
  } catch {
    return undefined;
  }
}
