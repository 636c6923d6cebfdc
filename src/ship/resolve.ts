/**
 * The transitive closure of what shipped code needs: each free name is resolved (a notebook
 * definition, a global, a name the receiver provides) and turned into a binding of the
 * generated module — functions and classes by source, data by value, imports by require, native
 * functions by their global path, partials by their parts — recursively.
 */
import type { CodeTarget, Definition, DefinitionLookup, SourceOrigin } from './types.js';
import { Errors, Reasons, type UnshippableReason } from './errors.js';
import { analyzeSource, UnparsableSourceError, type FreeReference, type SourceForm } from './free-names.js';
import { isGlobalName } from './globals.js';
import { resolveImport, type ResolvedImport } from './imports.js';
import { globalPath, hasNoSource } from './natives.js';
import { isPartial, partialParts } from './partial.js';
import { formatPath, scanValue, withHolesCleared, type PathKey } from './scan-value.js';
import { kInternalPrefix } from './shipment.js';

/** Data plus the functions to put back into it. */
export interface DataPart {
  readonly value: unknown;
  readonly holes: readonly { readonly path: readonly PathKey[]; readonly binding: string }[];
}

export type Binding =
  | {
      readonly kind: 'source';
      readonly name: string;
      /** How users know it (for frames whose origin is unknown). */
      readonly label: string;
      readonly code: string;
      readonly form: SourceForm;
      /** `function name() {}` whose own name is the binding name: emitted as a hoisted declaration. */
      readonly declaration: boolean;
      readonly origin: SourceOrigin | undefined;
      readonly eagerDeps: readonly string[];
    }
  | { readonly kind: 'global'; readonly name: string; readonly path: string }
  | { readonly kind: 'import'; readonly name: string; readonly imp: ResolvedImport }
  | { readonly kind: 'data'; readonly name: string; readonly part: DataPart }
  | {
      readonly kind: 'partial';
      readonly name: string;
      readonly fn: string;
      readonly args: DataPart;
      readonly named: DataPart;
      readonly positions: Readonly<Record<string, number>>;
    }
  | { readonly kind: 'alias'; readonly name: string; readonly target: string };

/** Names the module wrapper provides to all shipped code. */
const kModuleNames = new Set(['require', 'module', '__filename', '__dirname']);

/** Who is asking for a name: for error messages and for same-cell checks. */
interface Owner {
  readonly name: string;
  readonly cell: string | undefined;
  readonly via: readonly string[];
}

export class Resolver {
  readonly bindings = new Map<string, Binding>();
  readonly #byValue = new Map<unknown, string>();
  readonly #definitions: DefinitionLookup | undefined;
  readonly #cwd: string;
  #anonymous = 0;

  constructor(definitions: DefinitionLookup | undefined, cwd: string) {
    this.#definitions = definitions;
    this.#cwd = cwd;
  }
  /** An inline function's place in the cell that wrote it, so its frames show that cell's lines. */
  #locateAnywhere(code: string): SourceOrigin | undefined {
    try {
      return this.#definitions?.locate?.(code);
    } catch {
      return undefined;
    }
  }


  /** Binds an entry given as a function; returns the module name it is bound to. */
  bindTarget(key: string, fn: Function): string {
    const def = this.#definitionOf(fn) ?? this.#definitionOf(fn, key);
    if (def) return this.#bindDefinition(def, []);
    return this.#bindFunction(fn, undefined, { name: fn.name || key, cell: undefined, via: [] });
  }

  /** Binds an entry given as compiled code (a %%mpirun body, a prange loop body). */
  bindCode(key: string, target: CodeTarget, index: number): { name: string; label: string; code: string; origin: SourceOrigin | undefined } {
    const name = `${kInternalPrefix}entry_${index}`;
    const owner: Owner = { name: key, cell: undefined, via: [] };
    const analysis = this.#analyze(target.code, owner);
    const provided = new Set(target.provided ?? []);
    for (const ref of analysis.references) {
      if (!provided.has(ref.name)) this.#resolveReference(ref, owner);
    }
    if (analysis.dynamicExports) throw Errors.Unshippable(owner.name, owner.cell, Reasons.dynamicExports());
    return { name, label: key, code: target.code, origin: target.origin };
  }

  /** A definition whose current value is `fn`, under fn's own name or `name`. */
  #definitionOf(fn: Function, name = fn.name): Definition | undefined {
    if (!this.#definitions || !name) return undefined;
    const def = this.#definitions.lookup(name);
    return def && def.kind !== 'import' && safeValue(def) === fn ? def : undefined;
  }

  #bindDefinition(def: Definition, via: readonly string[]): string {
    const existing = this.bindings.get(def.name);
    if (existing) return def.name;
    if (def.kind === 'import') {
      if (!def.importSpec) throw Errors.Unshippable(def.name, def.cell, Reasons.badImport(def.name), via);
      this.bindings.set(def.name, { kind: 'import', name: def.name, imp: resolveImport(def.importSpec, this.#cwd) });
      return def.name;
    }
    const value = def.value();
    const owner: Owner = { name: def.name, cell: def.cell, via };
    if (typeof value === 'function') return this.#bindFunction(value, def, owner);
    if (typeof value === 'symbol') throw Errors.Unshippable(def.name, def.cell, Reasons.symbol(), via);
    this.bindings.set(def.name, { kind: 'data', name: def.name, part: this.#dataPart(value, owner) });
    return def.name;
  }

  #bindFunction(fn: Function, def: Definition | undefined, owner: Owner): string {
    const known = this.#byValue.get(fn);
    if (known !== undefined) {
      // The same function under a second notebook name: alias it, so identity (instanceof) holds.
      if (def && known !== def.name) this.bindings.set(def.name, { kind: 'alias', name: def.name, target: known });
      return def && known !== def.name ? def.name : known;
    }
    const name = def?.name ?? this.#anonymousName();
    this.#byValue.set(fn, name);
    if (isPartial(fn)) return this.#bindPartial(fn, name, owner);
    const path = globalPath(fn);
    if (path !== undefined) {
      this.bindings.set(name, { kind: 'global', name, path });
      return name;
    }
    if (hasNoSource(fn)) throw Errors.Unshippable(owner.name, owner.cell, Reasons.noSource(), owner.via);
    const code = Function.prototype.toString.call(fn);
    const analysis = this.#analyze(code, owner);
    // Registered before its references are resolved, so that recursion and cycles terminate.
    const eagerDeps: string[] = [];
    const binding = {
      kind: 'source' as const,
      name,
      label: def?.name ?? (fn.name || owner.name),
      code,
      form: analysis.form,
      declaration: analysis.form === 'expression' && isDeclarationOf(code, name),
      origin: def ? safeLocate(def, code) : this.#locateAnywhere(code),
      eagerDeps,
    };
    this.bindings.set(name, binding);
    if (analysis.dynamicExports) throw Errors.Unshippable(owner.name, owner.cell, Reasons.dynamicExports(), owner.via);
    for (const ref of analysis.references) {
      const dep = this.#resolveReference(ref, owner);
      if (dep !== undefined && ref.eager) eagerDeps.push(dep);
    }
    return name;
  }

  #bindPartial(fn: Function, name: string, owner: Owner): string {
    const parts = partialParts(fn);
    if (!parts) throw new Error('partial without parts');
    const inner: Owner = { name: `${owner.name} (partial of ${parts.fn.name || 'a function'})`, cell: owner.cell, via: owner.via };
    const def = this.#definitionOf(parts.fn);
    const fnName = def ? this.#bindDefinition(def, [...owner.via, owner.name]) : this.#bindFunction(parts.fn, undefined, inner);
    this.bindings.set(name, {
      kind: 'partial',
      name,
      fn: fnName,
      args: this.#dataPart(parts.args, { ...owner, name: `${owner.name}'s bound arguments` }),
      named: this.#dataPart(parts.named, { ...owner, name: `${owner.name}'s named arguments` }),
      positions: parts.positions,
    });
    return name;
  }

  #dataPart(value: unknown, owner: Owner): DataPart {
    const scan = scanValue(value);
    if (!scan.ok) throw Errors.Unshippable(formatPath(owner.name, scan.path), owner.cell, scan.reason, owner.via);
    const holes = scan.holes.map((hole) => {
      const display = formatPath(owner.name, hole.path);
      const def = this.#definitionOf(hole.fn);
      const binding = def
        ? this.#bindDefinition(def, [...owner.via, owner.name])
        : this.#bindFunction(hole.fn, undefined, { name: display, cell: owner.cell, via: owner.via });
      return { path: hole.path, binding };
    });
    return { value: withHolesCleared(value, scan.holes), holes };
  }

  /** Resolves one free name of `owner`'s code; returns the binding it needs, if any. */
  #resolveReference(ref: FreeReference, owner: Owner): string | undefined {
    if (!ref.viaExports && kModuleNames.has(ref.name)) return undefined;
    const via = [...owner.via, owner.name];
    const def = this.#definitions?.lookup(ref.name);
    const global = !ref.viaExports && isGlobalName(ref.name);
    // A plain name is a same-cell declaration, a global, or a closure: a definition from another
    // cell with a global's name is not what the code means.
    const usable = def && (ref.viaExports || !global || owner.cell === undefined || def.cell === owner.cell);
    if (def && usable) return this.#bindDefinition(def, via);
    if (global || ref.typeofOnly) return undefined;
    throw Errors.Unshippable(owner.name, owner.cell, this.#missing(ref), owner.via);
  }

  #missing(ref: FreeReference): UnshippableReason {
    if (ref.viaExports) return Reasons.undefinedExport(ref.name);
    return this.#definitions ? Reasons.closure(ref.name) : Reasons.freeName(ref.name);
  }

  #analyze(code: string, owner: Owner): ReturnType<typeof analyzeSource> {
    try {
      return analyzeSource(code);
    } catch (err) {
      if (err instanceof UnparsableSourceError) throw Errors.Unshippable(owner.name, owner.cell, Reasons.unparsable(), owner.via);
      throw err;
    }
  }

  #anonymousName(): string {
    return `${kInternalPrefix}value_${++this.#anonymous}`;
  }
}

function isDeclarationOf(code: string, name: string): boolean {
  const m = /^(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*\(/.exec(code);
  return m?.[1] === name;
}

function safeValue(def: Definition): unknown {
  try {
    return def.value();
  } catch {
    return undefined;
  }
}

function safeLocate(def: Definition, code: string): SourceOrigin | undefined {
  try {
    return def.locate(code);
  } catch {
    return undefined;
  }
}
