/**
 * Lexical scope analysis of a TypeScript or JavaScript syntax tree: for every identifier that is
 * a reference (not a property name, not a declaration, not a type), whether it refers to a
 * binding declared in the analysed code — at its top level or in an inner scope — or to
 * nothing in it (a free name: a global, or a name from elsewhere, such as an earlier cell).
 *
 * The one classification of names: shipping (src/ship), the engine's cell emit and the
 * %%parallel compiler all ask isReference and isWritten here, so they agree on every name.
 * Types are erased before code runs, so type positions are not references.
 */
import type * as TS from 'typescript';

// typescript is loaded on first use: this module is reachable from the package's entry (through
// shipping), and a plain `import { Pool } from 'tslab-parallel'` should not pay for the compiler.
let ts: typeof TS;
function load(): void {
  ts ??= require('typescript') as typeof TS;
}

/**
 * Runs `analysis` (synchronous calls of this module) on trees of another TypeScript: the
 * engine's cell emit parses with tslab's compiler, whose SyntaxKind numbers differ from this
 * package's, so nodes of one must never be classified with the other's kinds.
 */
export function withTypeScript<T>(module: typeof TS, analysis: () => T): T {
  const previous = ts;
  ts = module;
  try {
    return analysis();
  } finally {
    ts = previous;
  }
}

export type Resolution = 'top' | 'inner' | 'free';

export interface Reference {
  readonly node: TS.Identifier;
  readonly name: string;
  readonly resolution: Resolution;
  /** True when the reference is written to (assignment target, ++/--, for-in/of target). */
  readonly written: boolean;
}

export interface ScopeAnalysis {
  /** Value names declared at the top level (var hoisting included). */
  readonly topLevel: ReadonlySet<string>;
  readonly references: readonly Reference[];
  /** Free names, in order of first appearance. */
  readonly free: readonly string[];
}

type Scope = { names: Set<string>; isTop: boolean; parent: Scope | null };

export function analyzeScopes(root: TS.SourceFile | TS.Node): ScopeAnalysis {
  load();
  const references: Reference[] = [];
  const top: Scope = { names: new Set(), isTop: true, parent: null };
  if (ts.isSourceFile(root)) {
    declareBlockScoped(root.statements, top.names);
    declareVarScoped(root, top.names);
  }

  const resolve = (name: string, scope: Scope): Resolution => {
    for (let s: Scope | null = scope; s; s = s.parent) if (s.names.has(name)) return s.isTop ? 'top' : 'inner';
    return 'free';
  };

  const visit = (node: TS.Node, scope: Scope): void => {
    if (isTypeOnly(node)) return;
    if (ts.isIdentifier(node)) {
      // The walk skipped type-only subtrees, so the name alone decides (isReference without its climb).
      if (isValueName(node)) {
        references.push({ node, name: node.text, resolution: resolve(node.text, scope), written: isWritten(node) });
      }
      return;
    }
    const inner = scopeFor(node, scope);
    if (inner) {
      visitScoped(node, inner);
      return;
    }
    ts.forEachChild(node, (child) => visit(child, scope));
  };

  const visitScoped = (node: TS.Node, scope: Scope): void => {
    ts.forEachChild(node, (child) => visit(child, scope));
  };

  const scopeFor = (node: TS.Node, parent: Scope): Scope | null => {
    const names = new Set<string>();
    if (ts.isFunctionLike(node) && !ts.isTypeNode(node) && 'body' in node) {
      const fn = node as TS.SignatureDeclaration & { body?: TS.Node };
      for (const p of fn.parameters) bindingNames(p.name, names);
      // A named function expression sees its own name.
      if (ts.isFunctionExpression(node) && node.name) names.add(node.name.text);
      if (!ts.isArrowFunction(node)) names.add('arguments');
      if (fn.body) {
        declareVarScoped(fn.body, names);
        if (ts.isBlock(fn.body)) declareBlockScoped(fn.body.statements, names);
      }
      return { names, isTop: false, parent };
    }
    if (ts.isBlock(node) || ts.isModuleBlock(node)) {
      if (ts.isFunctionLike(node.parent) || ts.isClassStaticBlockDeclaration(node.parent)) return null; // declared with its function
      declareBlockScoped(node.statements, names);
      return { names, isTop: false, parent };
    }
    if (ts.isCaseBlock(node)) {
      for (const clause of node.clauses) declareBlockScoped(clause.statements, names);
      return { names, isTop: false, parent };
    }
    if (ts.isForStatement(node) || ts.isForInStatement(node) || ts.isForOfStatement(node)) {
      const init = node.initializer;
      if (init && ts.isVariableDeclarationList(init) && isLexical(init)) {
        for (const d of init.declarations) bindingNames(d.name, names);
      }
      return { names, isTop: false, parent };
    }
    if (ts.isCatchClause(node)) {
      if (node.variableDeclaration) bindingNames(node.variableDeclaration.name, names);
      return { names, isTop: false, parent };
    }
    if (ts.isClassExpression(node) && node.name) {
      names.add(node.name.text);
      return { names, isTop: false, parent };
    }
    return null;
  };

  if (ts.isSourceFile(root)) ts.forEachChild(root, (child) => visit(child, top));
  else visit(root, top);

  const free: string[] = [];
  const seen = new Set<string>();
  for (const r of references) {
    if (r.resolution === 'free' && !seen.has(r.name)) {
      seen.add(r.name);
      free.push(r.name);
    }
  }
  return { topLevel: top.names, references, free };
}

/** let/const/class/function/enum/import declarations directly in a statement list. */
export function declareBlockScoped(statements: readonly TS.Statement[], into: Set<string>): void {
  load();
  for (const s of statements) {
    if (hasDeclareModifier(s)) continue;
    if (ts.isVariableStatement(s) && isLexical(s.declarationList)) {
      for (const d of s.declarationList.declarations) bindingNames(d.name, into);
    } else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) {
      into.add(s.name.text);
    } else if (ts.isEnumDeclaration(s)) {
      into.add(s.name.text);
    } else if (ts.isModuleDeclaration(s) && ts.isIdentifier(s.name) && isInstantiated(s)) {
      into.add(s.name.text);
    } else if (ts.isImportDeclaration(s)) {
      importNames(s, into);
    } else if (ts.isImportEqualsDeclaration(s) && !s.isTypeOnly) {
      into.add(s.name.text);
    }
  }
}

/** `var` declarations anywhere in a function body (not in nested functions): they are hoisted. */
export function declareVarScoped(body: TS.Node, into: Set<string>): void {
  load();
  const walk = (node: TS.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassLike(node) || ts.isClassStaticBlockDeclaration(node) || isTypeOnly(node)) return;
    if (ts.isVariableDeclarationList(node) && !isLexical(node) && !hasDeclareModifier(node.parent)) {
      for (const d of node.declarations) bindingNames(d.name, into);
    }
    ts.forEachChild(node, walk);
  };
  ts.forEachChild(body, walk);
}

export function bindingNames(name: TS.BindingName, into: Set<string>): void {
  load();
  if (ts.isIdentifier(name)) {
    into.add(name.text);
    return;
  }
  for (const el of name.elements) {
    if (ts.isBindingElement(el)) bindingNames(el.name, into);
  }
}

/** The binding elements of a destructuring pattern, nested ones included (`{ a, b: [c] }`: a, b, c). */
export function bindingElements(name: TS.BindingName, into: TS.BindingElement[] = []): TS.BindingElement[] {
  load();
  if (ts.isIdentifier(name)) return into;
  for (const el of name.elements) {
    if (ts.isBindingElement(el)) {
      into.push(el);
      bindingElements(el.name, into);
    }
  }
  return into;
}

/** Value names an import declaration binds (type-only imports bind none). */
export function importNames(s: TS.ImportDeclaration, into: Set<string>): void {
  load();
  const clause = s.importClause;
  if (!clause || clause.isTypeOnly) return;
  if (clause.name) into.add(clause.name.text);
  const nb = clause.namedBindings;
  if (!nb) return;
  if (ts.isNamespaceImport(nb)) into.add(nb.name.text);
  else for (const el of nb.elements) if (!el.isTypeOnly) into.add(el.name.text);
}

function isLexical(list: TS.VariableDeclarationList): boolean {
  return (list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const | ts.NodeFlags.Using | ts.NodeFlags.AwaitUsing)) !== 0;
}

function hasDeclareModifier(node: TS.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.DeclareKeyword);
}

/** Whether a node is a function boundary: `this`, `arguments`, `return`, `await` and `var` belong to it. */
export function isFunctionBoundary(node: TS.Node | undefined): boolean {
  load();
  if (!node) return false;
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) ||
    ts.isClassStaticBlockDeclaration(node)
  );
}

/** Whether a namespace has runtime content (a value), rather than only types. */
export function isInstantiated(m: TS.ModuleDeclaration): boolean {
  load();
  if (hasDeclareModifier(m)) return false;
  const body = m.body;
  if (!body) return false;
  if (ts.isModuleDeclaration(body)) return isInstantiated(body);
  if (!ts.isModuleBlock(body)) return false;
  return body.statements.some((s) => !ts.isInterfaceDeclaration(s) && !ts.isTypeAliasDeclaration(s));
}

/** Nodes that exist only for the type checker and vanish from the emitted JavaScript. */
export function isTypeOnly(node: TS.Node): boolean {
  load();
  return (
    (ts.isTypeNode(node) && !isValueWithTypeArguments(node)) ||
    ts.isInterfaceDeclaration(node) ||
    ts.isTypeAliasDeclaration(node) ||
    ts.isTypeParameterDeclaration(node) ||
    ts.isHeritageClause(node) && node.token === ts.SyntaxKind.ImplementsKeyword ||
    hasDeclareModifier(node) ||
    (ts.isImportDeclaration(node) && !!node.importClause?.isTypeOnly) ||
    (ts.isExportDeclaration(node) && node.isTypeOnly) ||
    (ts.isModuleDeclaration(node) && !isInstantiated(node))
  );
}

/**
 * `class A extends Base<T>` and the instantiation expression `f<number>`: `Base` and `f` are
 * values (their type arguments are not), though TypeScript files the node under types.
 */
function isValueWithTypeArguments(node: TS.Node): boolean {
  if (!ts.isExpressionWithTypeArguments(node)) return false;
  const clause = node.parent;
  if (!ts.isHeritageClause(clause)) return true;
  return clause.token === ts.SyntaxKind.ExtendsKeyword && ts.isClassLike(clause.parent);
}

/**
 * Whether an identifier names a value being read or written: not a property name, a
 * declaration's name, a label, or a name in a type (`N` in `let v: N.T` or `typeof n`).
 */
export function isReference(id: TS.Identifier): boolean {
  load();
  if (!isValueName(id)) return false;
  for (let n: TS.Node | undefined = id.parent; n; n = n.parent) if (isTypeOnly(n)) return false;
  return true;
}

/** isReference by the identifier's own position only, for walks that skip type-only subtrees. */
function isValueName(id: TS.Identifier): boolean {
  const p = id.parent;
  if (!p) return true;
  switch (p.kind) {
    case ts.SyntaxKind.PropertyAccessExpression:
      return (p as TS.PropertyAccessExpression).expression === id;
    case ts.SyntaxKind.QualifiedName:
      return (p as TS.QualifiedName).left === id;
    case ts.SyntaxKind.PropertyAssignment:
      return (p as TS.PropertyAssignment).initializer === id;
    case ts.SyntaxKind.ShorthandPropertyAssignment:
      return true;
    case ts.SyntaxKind.BindingElement: {
      const b = p as TS.BindingElement;
      return b.initializer === id;
    }
    case ts.SyntaxKind.VariableDeclaration:
    case ts.SyntaxKind.Parameter:
    case ts.SyntaxKind.PropertyDeclaration:
    case ts.SyntaxKind.PropertySignature:
    case ts.SyntaxKind.EnumMember:
      return (p as TS.VariableDeclaration).initializer === id;
    case ts.SyntaxKind.FunctionDeclaration:
    case ts.SyntaxKind.FunctionExpression:
    case ts.SyntaxKind.ClassDeclaration:
    case ts.SyntaxKind.ClassExpression:
    case ts.SyntaxKind.MethodDeclaration:
    case ts.SyntaxKind.MethodSignature:
    case ts.SyntaxKind.GetAccessor:
    case ts.SyntaxKind.SetAccessor:
    case ts.SyntaxKind.EnumDeclaration:
    case ts.SyntaxKind.ModuleDeclaration:
    case ts.SyntaxKind.InterfaceDeclaration:
    case ts.SyntaxKind.TypeAliasDeclaration:
    case ts.SyntaxKind.TypeParameter:
      return (p as TS.NamedDeclaration).name !== id;
    case ts.SyntaxKind.ImportClause:
    case ts.SyntaxKind.NamespaceImport:
    case ts.SyntaxKind.ImportSpecifier:
    case ts.SyntaxKind.ImportEqualsDeclaration:
    case ts.SyntaxKind.ExportSpecifier:
    case ts.SyntaxKind.NamespaceExport:
    case ts.SyntaxKind.LabeledStatement:
    case ts.SyntaxKind.BreakStatement:
    case ts.SyntaxKind.ContinueStatement:
    case ts.SyntaxKind.MetaProperty:
    case ts.SyntaxKind.JsxAttribute:
    case ts.SyntaxKind.JsxNamespacedName:
      return false;
    case ts.SyntaxKind.JsxOpeningElement:
    case ts.SyntaxKind.JsxSelfClosingElement:
    case ts.SyntaxKind.JsxClosingElement:
      // <div> is an intrinsic element, <Chart> a reference to a component.
      return !/^[a-z]/.test(id.text);
    default:
      return true;
  }
}

/**
 * Whether `node` is written by the expression around it: `node = …`, `node += …`, `node++`,
 * `[node] = …`, `({ node } = …)`, `for (node of …)`, also through parentheses and type
 * assertions (`(node as number) = …`, `node!++`).
 */
export function isWritten(node: TS.Node): boolean {
  load();
  const n = climbTransparent(node);
  const p = n.parent;
  if (!p) return false;
  if (ts.isBinaryExpression(p) && p.left === n && isAssignmentOperator(p.operatorToken.kind)) return true;
  if ((ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) && isIncrementOrDecrement(p.operator)) return true;
  if ((ts.isForOfStatement(p) || ts.isForInStatement(p)) && p.initializer === n) return true;
  // Destructuring assignment: [a, b] = …, ({ a } = …), [...rest] = …
  if (ts.isArrayLiteralExpression(p) || ts.isSpreadElement(p)) return isWritten(p);
  if (ts.isShorthandPropertyAssignment(p) || ts.isSpreadAssignment(p)) return isWritten(p.parent);
  if (ts.isPropertyAssignment(p) && p.initializer === n) return isWritten(p.parent);
  if (ts.isObjectLiteralExpression(p)) return isWritten(p);
  return false;
}

/** Skips wrapping parentheses and type assertions upwards: `(x as any)` stands for x. */
export function climbTransparent(node: TS.Node): TS.Node {
  load();
  let n = node;
  while (n.parent && isTransparent(n.parent)) n = n.parent;
  return n;
}

/** Skips wrapping parentheses and type assertions downwards. */
export function skipTransparent(node: TS.Expression): TS.Expression {
  load();
  let n = node;
  while (isTransparent(n)) n = (n as TS.ParenthesizedExpression).expression;
  return n;
}

function isTransparent(n: TS.Node): boolean {
  return (
    ts.isParenthesizedExpression(n) || ts.isAsExpression(n) || ts.isNonNullExpression(n) || ts.isSatisfiesExpression(n) || ts.isTypeAssertionExpression(n)
  );
}

export function isAssignmentOperator(kind: TS.SyntaxKind): boolean {
  load();
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

export function isIncrementOrDecrement(op: TS.SyntaxKind): boolean {
  load();
  return op === ts.SyntaxKind.PlusPlusToken || op === ts.SyntaxKind.MinusMinusToken;
}
