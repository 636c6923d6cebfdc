/**
 * The notebook's definitions registry: every top-level declaration a cell made, registered when
 * the cell is compiled (before it runs, so shipping can resolve a cell's own names while it
 * runs), with its current value read from the namespace.
 */
import { isAbsolute, resolve } from 'node:path';
import type { CompiledCell } from '../engine/engine.js';
import type { Definition, DefinitionKind, DefinitionLookup, ImportSpec, SourceOrigin } from '../ship/types.js';

export class DefinitionRegistry implements DefinitionLookup {
  readonly #entries = new Map<string, Definition>();
  readonly #namespace: Record<string, unknown>;
  readonly #scripts: (file: string) => string | undefined;
  readonly #aliases: ReadonlyMap<string, string>;
  /** Every compiled file, oldest first (cells and code magics compiled). */
  readonly #files: string[] = [];
  readonly cwd: string;

  constructor(options: {
    namespace: Record<string, unknown>;
    cwd: string;
    /** The script of a compiled file, to locate shipped functions in it. */
    scripts: (file: string) => string | undefined;
    /** Module ids served by this package (a worker resolves them to the same place). */
    aliases: ReadonlyMap<string, string>;
  }) {
    this.#namespace = options.namespace;
    this.cwd = options.cwd;
    this.#scripts = options.scripts;
    this.#aliases = options.aliases;
  }

  lookup(name: string): Definition | undefined {
    return name in this.#namespace ? this.#entries.get(name) : undefined;
  }

  locate(code: string): SourceOrigin | undefined {
    for (let i = this.#files.length - 1; i >= 0; i--) {
      const origin = originIn(this.#files[i], this.#scripts(this.#files[i]), code);
      if (origin) return origin;
    }
    return undefined;
  }

  /** Records the declarations of a compiled cell. */
  register(cell: CompiledCell): void {
    this.#files.push(cell.file);
    for (const d of cell.declarations) {
      this.#add(d.name, d.kind, `cell ${cell.label}`, cell.file, d.importSpec && this.#resolveImport(d.importSpec));
    }
  }

  /** Records a name a magic bound (%pool's pool, %%mpirun --out values). */
  registerBinding(name: string, by: string): void {
    this.#add(name, 'variable', by, undefined, undefined);
  }

  #add(name: string, kind: DefinitionKind, cell: string, file: string | undefined, importSpec: ImportSpec | undefined): void {
    const namespace = this.#namespace;
    const scripts = this.#scripts;
    this.#entries.set(name, {
      name,
      kind,
      cell,
      importSpec,
      value: () => namespace[name],
      locate: (code: string) => (file ? originIn(file, scripts(file), code) : undefined),
    });
  }

  /** Relative modules become absolute (workers run elsewhere); this package's ids become its path. */
  #resolveImport(spec: ImportSpec): ImportSpec {
    const alias = this.#aliases.get(spec.module);
    if (alias) return { ...spec, module: alias };
    if (spec.module.startsWith('.') && !isAbsolute(spec.module)) return { ...spec, module: resolve(this.cwd, spec.module) };
    return spec;
  }
}

/** The position of `code` in a compiled script: 1-based line, 0-based column. */
function originIn(file: string, script: string | undefined, code: string): SourceOrigin | undefined {
  const at = script?.indexOf(code) ?? -1;
  if (!script || at < 0) return undefined;
  const before = script.slice(0, at);
  return { file, line: before.split('\n').length, column: at - (before.lastIndexOf('\n') + 1) };
}
