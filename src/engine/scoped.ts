/**
 * Declarations of a scope that lives outside the notebook namespace (the ranks of an %mpirun
 * session): which names a cell declares at its top level, values and types alike, and the
 * part of the checker's declarations (a .d.ts text) that belongs to those names, so a later
 * cell of the same scope is checked against them and the notebook's own names stay the
 * notebook's.
 */
import type * as TS from 'typescript';
import { bindingNames } from '../util/scope.js';

// Loaded on first use (an %mpirun session): the engine is loaded at kernel start, before the
// first kernel_info reply, and the kernel's main thread has no other use for this compiler.
let ts: typeof TS;
function load(): typeof TS {
  return (ts ??= require('typescript') as typeof TS);
}

/** Every name a cell declares at its top level (variables, functions, classes, types, imports). */
export function topLevelNames(source: string): string[] {
  const file = load().createSourceFile('cell.ts', source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out = new Set<string>();
  for (const s of file.statements) namesOf(s, out);
  return [...out];
}

/** The statements of a declarations text that declare any of `names`. */
export function declarationsFor(declarations: string, names: ReadonlySet<string>): string {
  const file = load().createSourceFile('decl.d.ts', declarations, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const kept: string[] = [];
  for (const s of file.statements) {
    const declared = new Set<string>();
    namesOf(s, declared);
    if ([...declared].some((n) => names.has(n))) kept.push(s.getText(file));
  }
  return kept.length ? kept.join('\n') + '\n' : '';
}

function namesOf(s: TS.Statement, out: Set<string>): void {
  if (ts.isVariableStatement(s)) {
    for (const d of s.declarationList.declarations) bindingNames(d.name, out);
  } else if (
    (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s)) &&
    s.name
  ) {
    out.add(s.name.text);
  } else if (ts.isModuleDeclaration(s) && ts.isIdentifier(s.name)) {
    out.add(s.name.text);
  } else if (ts.isImportEqualsDeclaration(s)) {
    out.add(s.name.text);
  } else if (ts.isImportDeclaration(s) && s.importClause) {
    const clause = s.importClause;
    if (clause.name) out.add(clause.name.text);
    const nb = clause.namedBindings;
    if (nb && ts.isNamespaceImport(nb)) out.add(nb.name.text);
    if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) out.add(el.name.text);
  }
}
