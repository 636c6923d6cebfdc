/** The value declarations a cell makes at its top level, with what shipping needs to know of each. */
import type * as TS from 'typescript';
import { checkerTypescript } from './checker.js';
import type { DefinitionKind, ImportSpec } from '../ship/types.js';
import { bindingNames, declareVarScoped, isInstantiated, withTypeScript } from '../util/scope.js';

const ts = checkerTypescript();

export interface Declaration {
  readonly name: string;
  readonly kind: DefinitionKind;
  /** For imports: the module as written, and how the name is bound. */
  readonly importSpec?: ImportSpec;
}

/** `file` is parsed by tslab's TypeScript (checkerTypescript()), as the engine's emit parses cells. */
export function declarationsOf(file: TS.SourceFile): Declaration[] {
  return withTypeScript(ts, () => topLevelDeclarations(file));
}

function topLevelDeclarations(file: TS.SourceFile): Declaration[] {
  const out = new Map<string, Declaration>();
  const add = (d: Declaration) => out.set(d.name, d);
  for (const s of file.statements) {
    if (isAmbient(s)) continue;
    if (ts.isVariableStatement(s)) {
      const names = new Set<string>();
      for (const d of s.declarationList.declarations) bindingNames(d.name, names);
      for (const name of names) add({ name, kind: 'variable' });
    } else if (ts.isFunctionDeclaration(s) && s.name && s.body) {
      add({ name: s.name.text, kind: 'function' });
    } else if (ts.isClassDeclaration(s) && s.name) {
      add({ name: s.name.text, kind: 'class' });
    } else if (ts.isEnumDeclaration(s)) {
      add({ name: s.name.text, kind: 'enum' });
    } else if (ts.isModuleDeclaration(s) && ts.isIdentifier(s.name) && isInstantiated(s)) {
      add({ name: s.name.text, kind: 'variable' });
    } else if (ts.isImportDeclaration(s)) {
      importDeclarations(s).forEach(add);
    } else if (ts.isImportEqualsDeclaration(s) && !s.isTypeOnly && ts.isExternalModuleReference(s.moduleReference)) {
      const spec = s.moduleReference.expression;
      if (ts.isStringLiteral(spec)) add({ name: s.name.text, kind: 'import', importSpec: { module: spec.text, form: 'require' } });
    }
  }
  // `var` inside top-level blocks and loops belongs to the cell's top level too.
  const vars = new Set<string>();
  declareVarScoped(file, vars);
  for (const name of vars) if (!out.has(name)) add({ name, kind: 'variable' });
  return [...out.values()];
}

function importDeclarations(s: TS.ImportDeclaration): Declaration[] {
  const clause = s.importClause;
  if (!clause || clause.isTypeOnly || !ts.isStringLiteral(s.moduleSpecifier)) return [];
  const module = s.moduleSpecifier.text;
  const out: Declaration[] = [];
  if (clause.name) out.push({ name: clause.name.text, kind: 'import', importSpec: { module, form: 'default' } });
  const nb = clause.namedBindings;
  if (nb && ts.isNamespaceImport(nb)) out.push({ name: nb.name.text, kind: 'import', importSpec: { module, form: 'namespace' } });
  if (nb && ts.isNamedImports(nb)) {
    for (const el of nb.elements) {
      if (el.isTypeOnly) continue;
      const imported = (el.propertyName ?? el.name).text;
      out.push({ name: el.name.text, kind: 'import', importSpec: { module, form: 'named', imported } });
    }
  }
  return out;
}

function isAmbient(s: TS.Statement): boolean {
  return ts.canHaveModifiers(s) && (ts.getModifiers(s) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
}
