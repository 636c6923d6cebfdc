/**
 * Writes the generated module: one binding per line group, ordered so that whatever a binding
 * evaluates at definition time (class heritage, data holes, partial parts) comes first. Every
 * notebook name is bound both as a plain name and as `exports.NAME` on a local `exports`.
 *
 *   (function (__tslab_ship, require, module, __filename, __dirname) {
 *   const exports = module.exports;
 *   exports.square = square;                 // hoisted function declarations first
 *   const dx = __tslab_ship.data["dx"];
 *   exports.dx = dx;
 *   function square(x) { ... }
 *   return { "task": square };
 *   })
 */
import { createHash } from 'node:crypto';
import { importExpression } from './imports.js';
import type { Binding, DataPart } from './resolve.js';
import type { ShippedSegment } from './shipment.js';
import { kInternalPrefix } from './shipment.js';
import type { SourceOrigin } from './types.js';

const kRt = `${kInternalPrefix}ship`;

export interface EntryCode {
  readonly name: string;
  readonly label: string;
  readonly code: string;
  readonly origin: SourceOrigin | undefined;
}

export interface EmittedModule {
  readonly id: string;
  readonly code: string;
  readonly data: Record<string, unknown>;
  readonly segments: ShippedSegment[];
}

class ModuleWriter {
  readonly #parts: string[] = [];
  #line = 1;
  #column = 0;
  readonly segments: ShippedSegment[] = [];

  write(text: string): void {
    this.#parts.push(text);
    const lines = text.split('\n');
    if (lines.length > 1) {
      this.#line += lines.length - 1;
      this.#column = (lines[lines.length - 1] as string).length;
    } else {
      this.#column += text.length;
    }
  }

  /** Writes shipped source and records where it went. */
  source(name: string, code: string, origin: SourceOrigin | undefined): void {
    this.segments.push({
      name,
      line: this.#line,
      column: this.#column,
      lines: code.split('\n').length,
      ...(origin ? { origin } : {}),
    });
    this.write(code);
  }

  text(): string {
    return this.#parts.join('');
  }
}

export function emitModule(
  bindings: ReadonlyMap<string, Binding>,
  entries: readonly { key: string; binding: string }[],
  entryCode: readonly EntryCode[],
): EmittedModule {
  const w = new ModuleWriter();
  const data: Record<string, unknown> = {};
  w.write(`(function (${kRt}, require, module, __filename, __dirname) {\n`);
  w.write('const exports = module.exports;\n');
  const ordered = definitionOrder(bindings);
  // Hoisted declarations are usable from the start, so their exports are too.
  for (const b of ordered) {
    if (b.kind === 'source' && b.declaration && isNotebookName(b.name)) w.write(`exports.${b.name} = ${b.name};\n`);
  }
  for (const b of ordered) emitBinding(w, b, data);
  for (const e of entryCode) {
    w.write(`const ${e.name} = (0, `);
    w.source(e.label, e.code, e.origin);
    w.write('\n);\n');
  }
  const returned = entries.map((e) => `${JSON.stringify(e.key)}: ${e.binding}`).join(', ');
  w.write(`return { ${returned} };\n})`);
  const code = w.text();
  const id = createHash('sha256').update(code).digest('hex').slice(0, 24);
  return { id, code, data, segments: w.segments };
}

function emitBinding(w: ModuleWriter, b: Binding, data: Record<string, unknown>): void {
  switch (b.kind) {
    case 'source':
      if (b.declaration) {
        w.source(b.label, b.code, b.origin);
        w.write('\n');
      } else if (b.form === 'method') {
        w.write(`const ${b.name} = ${kRt}.method({`);
        w.source(b.label, b.code, b.origin);
        w.write('\n});\n');
      } else {
        // `(0, fn)` keeps an anonymous function anonymous: V8 would otherwise name it after our binding.
        w.write(isNotebookName(b.name) ? `const ${b.name} = (` : `const ${b.name} = (0, `);
        w.source(b.label, b.code, b.origin);
        w.write('\n);\n');
      }
      break;
    case 'global':
      w.write(`const ${b.name} = ${b.path};\n`);
      break;
    case 'import':
      w.write(`const ${b.name} = ${importExpression(b.imp, kRt)};\n`);
      break;
    case 'data':
      w.write(`const ${b.name} = ${dataExpression(b.part, b.name, data)};\n`);
      break;
    case 'partial': {
      const args = dataExpression(b.args, `${b.name}.args`, data);
      const named = dataExpression(b.named, `${b.name}.named`, data);
      w.write(`const ${b.name} = ${kRt}.partial(${b.fn}, ${args}, ${named}, ${JSON.stringify(b.positions)});\n`);
      break;
    }
    case 'alias':
      w.write(`const ${b.name} = ${b.target};\n`);
      break;
  }
  if (isNotebookName(b.name) && !(b.kind === 'source' && b.declaration)) w.write(`exports.${b.name} = ${b.name};\n`);
}

function dataExpression(part: DataPart, key: string, data: Record<string, unknown>): string {
  data[key] = part.value;
  const read = `${kRt}.data[${JSON.stringify(key)}]`;
  if (part.holes.length === 0) return read;
  const holes = part.holes.map((h) => `[${JSON.stringify(h.path)}, ${h.binding}]`).join(', ');
  return `${kRt}.fill(${read}, [${holes}])`;
}

function isNotebookName(name: string): boolean {
  return !name.startsWith(kInternalPrefix);
}

/** What a binding evaluates when it is defined. */
function eagerDependencies(b: Binding): readonly string[] {
  switch (b.kind) {
    case 'source':
      return b.eagerDeps;
    case 'data':
      return b.part.holes.map((h) => h.binding);
    case 'partial':
      return [b.fn, ...b.args.holes.map((h) => h.binding), ...b.named.holes.map((h) => h.binding)];
    case 'alias':
      return [b.target];
    default:
      return [];
  }
}

/** Depth-first topological order over definition-time dependencies, stable otherwise. */
function definitionOrder(bindings: ReadonlyMap<string, Binding>): Binding[] {
  const out: Binding[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (b: Binding): void => {
    if (state.has(b.name)) return; // done, or a cycle (which the notebook could not have run either)
    state.set(b.name, 'visiting');
    for (const dep of eagerDependencies(b)) {
      const d = bindings.get(dep);
      // A hoisted declaration is available anywhere; no need to move it.
      if (d && !(d.kind === 'source' && d.declaration)) visit(d);
    }
    state.set(b.name, 'done');
    out.push(b);
  };
  for (const b of bindings.values()) visit(b);
  return out;
}
