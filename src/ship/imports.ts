/**
 * Re-creating a notebook import in a worker: `require` of the same module, in the form the
 * import used. Relative modules are made absolute (against the notebook's directory), and
 * TypeScript modules are compiled to JavaScript first.
 */
import * as path from 'node:path';
import type { ImportSpec } from './types.js';
import { compileTypeScriptModule, isTypeScriptFile, resolveModuleFile } from './compile-ts.js';

export interface ResolvedImport {
  /** What the worker requires: a package name, a built-in, or an absolute path. */
  readonly module: string;
  readonly form: ImportSpec['form'];
  readonly imported?: string;
  /** The module was compiled from TypeScript (workers enable source maps for it). */
  readonly compiled: boolean;
}

export function resolveImport(spec: ImportSpec, cwd: string): ResolvedImport {
  let module = spec.module;
  let compiled = false;
  if (/^\.\.?(\/|$)/.test(module) || path.isAbsolute(module)) {
    const absolute = path.resolve(cwd, module);
    const file = resolveModuleFile(absolute);
    if (file && isTypeScriptFile(file)) {
      module = compileTypeScriptModule(file);
      compiled = true;
    } else {
      module = file ?? absolute;
    }
  }
  return { module, form: spec.form, ...(spec.imported !== undefined ? { imported: spec.imported } : {}), compiled };
}

/** The expression that re-creates the binding, given the module's helper object `rt`. */
export function importExpression(imp: ResolvedImport, rt: string): string {
  const req = `require(${JSON.stringify(imp.module)})`;
  switch (imp.form) {
    case 'default':
      return `${rt}.interopDefault(${req})`;
    case 'named':
      return `${req}[${JSON.stringify(imp.imported ?? 'default')}]`;
    case 'namespace':
    case 'require':
      return req;
  }
}
