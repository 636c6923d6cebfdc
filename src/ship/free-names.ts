/**
 * Free-name analysis of a function's or class's JavaScript source (`String(fn)`), with a real
 * scope analysis over the TypeScript parser's AST: parameters, var/let/const/class/function
 * scoping, catch bindings, named function expressions and destructuring bind names; labels and
 * property names are not references; shorthand `{a}` is. `exports.NAME` counts as a reference
 * to the notebook name NAME (the kernel's engine writes references to earlier cells that way).
 *
 * typescript is loaded lazily: the pool and worker threads import this package without paying
 * for the compiler until something is actually shipped.
 */
import type * as TS from 'typescript';
import { checkSyntax } from './syntax.js';

let tsModule: typeof TS | undefined;
/** The typescript module, loaded on first use. */
export function typescript(): typeof TS {
  return (tsModule ??= require('typescript') as typeof TS);
}

/** One name the code refers to but does not declare. */
export interface FreeReference {
  readonly name: string;
  /** Written `exports.NAME`: a name defined by an earlier cell. */
  readonly viaExports: boolean;
  /** Evaluated when the function or class is defined (class heritage, static initializers, computed keys). */
  readonly eager: boolean;
  /** Only ever used as `typeof name`, which tolerates a missing name. */
  readonly typeofOnly: boolean;
}

/** How the source text has to be wrapped to become an expression. */
export type SourceForm = 'expression' | 'method';

export interface SourceAnalysis {
  readonly form: SourceForm;
  /** Free references in order of first appearance (plain and `exports.` ones merged by name). */
  readonly references: readonly FreeReference[];
  /** `exports` is used other than as `exports.NAME` / `exports["NAME"]` (e.g. `exports[key]`). */
  readonly dynamicExports: boolean;
  /** Parameter names of the root function; undefined for a destructured parameter. */
  readonly parameters: readonly ParameterInfo[];
}

export interface ParameterInfo {
  readonly name: string | undefined;
  readonly rest: boolean;
}

/** Thrown when the source is not a function or class expression we can parse. */
export class UnparsableSourceError extends Error {
  override readonly name = 'UnparsableSourceError';
}

const kCacheLimit = 4000;
const cache = new Map<string, SourceAnalysis>();

/** Analyses `code` (cached by text: notebooks ship the same functions over and over). */
export function analyzeSource(code: string): SourceAnalysis {
  const hit = cache.get(code);
  if (hit) return hit;
  const result = analyzeUncached(code);
  if (cache.size >= kCacheLimit) cache.delete(cache.keys().next().value as string);
  cache.set(code, result);
  return result;
}

/** Wraps `code` so that it parses as an expression: `(code)` or, for a method, `({code})`. */
export function wrapSource(code: string, form: SourceForm): { text: string; offset: number } {
  return form === 'expression' ? { text: `(${code}\n)`, offset: 1 } : { text: `({${code}\n})`, offset: 2 };
}

/** Which wrapping makes `code` a valid expression, judged by V8's own parser. */
export function sourceForm(code: string): SourceForm | undefined {
  if (checkSyntax(wrapSource(code, 'expression').text)) return 'expression';
  if (checkSyntax(wrapSource(code, 'method').text)) return 'method';
  return undefined;
}

function analyzeUncached(code: string): SourceAnalysis {
  const form = sourceForm(code);
  if (!form) throw new UnparsableSourceError('the source is not a function or class expression');
  const ts = typescript();
  const file = ts.createSourceFile('shipped.js', wrapSource(code, form).text, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const root = findRoot(ts, file, form);
  if (!root) throw new UnparsableSourceError('the source is not a function or class expression');
  const walker = new ScopeWalker(ts, root);
  walker.run();
  return {
    form,
    references: walker.references(),
    dynamicExports: walker.dynamicExports,
    parameters: ts.isClassLike(root) ? [] : parametersOf(ts, root as TS.SignatureDeclaration),
  };
}

/** The function, class or method that the wrapped text holds. */
function findRoot(ts: typeof TS, file: TS.SourceFile, form: SourceForm): TS.Node | undefined {
  const stmt = file.statements[0];
  if (file.statements.length !== 1 || !stmt || !ts.isExpressionStatement(stmt)) return undefined;
  let expr: TS.Expression = stmt.expression;
  while (ts.isParenthesizedExpression(expr)) expr = expr.expression;
  if (form === 'method') {
    if (!ts.isObjectLiteralExpression(expr) || expr.properties.length !== 1) return undefined;
    const member = expr.properties[0];
    return member && ts.isFunctionLike(member) ? member : undefined;
  }
  if (ts.isFunctionExpression(expr) || ts.isArrowFunction(expr) || ts.isClassExpression(expr)) return expr;
  return undefined;
}

function parametersOf(ts: typeof TS, fn: TS.SignatureDeclaration): ParameterInfo[] {
  return fn.parameters.map((p) => ({
    name: ts.isIdentifier(p.name) ? p.name.text : undefined,
    rest: p.dotDotDotToken !== undefined,
  }));
}

/** A lexical scope: the names declared directly in it. */
interface Scope {
  readonly names: Set<string>;
  readonly parent: Scope | undefined;
}

interface MutableReference {
  name: string;
  viaExports: boolean;
  eager: boolean;
  typeofOnly: boolean;
}

class ScopeWalker {
  readonly #ts: typeof TS;
  readonly #root: TS.Node;
  readonly #scopes = new Map<TS.Node, Scope>();
  readonly #refs = new Map<string, MutableReference>();
  dynamicExports = false;

  constructor(ts: typeof TS, root: TS.Node) {
    this.#ts = ts;
    this.#root = root;
  }

  run(): void {
    this.#visit(this.#root, undefined);
  }

  references(): FreeReference[] {
    return [...this.#refs.values()];
  }

  #visit(node: TS.Node, scope: Scope | undefined): void {
    const ts = this.#ts;
    const own = this.#scopeFor(node, scope);
    if (ts.isIdentifier(node)) {
      if (isReference(ts, node)) this.#reference(node, own);
      return;
    }
    ts.forEachChild(node, (child) => this.#visit(child, own));
  }

  /** Creates the scope that `node` opens (if any), with its declarations hoisted in. */
  #scopeFor(node: TS.Node, parent: Scope | undefined): Scope | undefined {
    const ts = this.#ts;
    let names: Set<string> | undefined;
    if (isFunctionScope(ts, node)) {
      names = new Set<string>();
      const fn = node as TS.SignatureDeclaration & { body?: TS.Node; name?: TS.Node };
      // A named function expression sees its own name; `arguments` exists in non-arrow functions.
      if (ts.isFunctionExpression(node) && node.name) names.add(node.name.text);
      if (!ts.isArrowFunction(node) && !ts.isClassStaticBlockDeclaration(node)) names.add('arguments');
      if (!ts.isClassStaticBlockDeclaration(node)) {
        for (const p of (node as TS.SignatureDeclaration).parameters) collectBindingNames(ts, p.name, names);
      }
      const body = ts.isClassStaticBlockDeclaration(node) ? node.body : fn.body;
      if (body && ts.isBlock(body)) {
        collectVarNames(ts, body, names);
        collectLexicalNames(ts, body.statements, names);
      }
    } else if (ts.isClassLike(node)) {
      // The class name is visible inside the class (class expressions included).
      if (node.name) names = new Set([node.name.text]);
    } else if (ts.isBlock(node) && !isFunctionScope(ts, node.parent)) {
      names = new Set<string>();
      collectLexicalNames(ts, node.statements, names);
    } else if (ts.isCaseBlock(node)) {
      names = new Set<string>();
      for (const clause of node.clauses) collectLexicalNames(ts, clause.statements, names);
    } else if (ts.isForStatement(node) || ts.isForInStatement(node) || ts.isForOfStatement(node)) {
      const init = node.initializer;
      if (init && ts.isVariableDeclarationList(init) && isLexical(ts, init)) {
        names = new Set<string>();
        for (const d of init.declarations) collectBindingNames(ts, d.name, names);
      }
    } else if (ts.isCatchClause(node) && node.variableDeclaration) {
      names = new Set<string>();
      collectBindingNames(ts, node.variableDeclaration.name, names);
    }
    if (!names) return parent;
    const scope: Scope = { names, parent };
    this.#scopes.set(node, scope);
    return scope;
  }

  #reference(id: TS.Identifier, scope: Scope | undefined): void {
    const ts = this.#ts;
    const name = id.text;
    if (isDeclared(scope, name)) return;
    if (name === 'exports') {
      const parent = id.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.expression === id && ts.isIdentifier(parent.name)) {
        this.#record(parent.name.text, true, this.#isEager(id), false);
      } else if (
        ts.isElementAccessExpression(parent) &&
        parent.expression === id &&
        ts.isStringLiteralLike(parent.argumentExpression)
      ) {
        this.#record(parent.argumentExpression.text, true, this.#isEager(id), false);
      } else {
        this.dynamicExports = true;
      }
      return;
    }
    const underTypeof = ts.isTypeOfExpression(id.parent) && id.parent.expression === id;
    this.#record(name, false, this.#isEager(id), underTypeof);
  }

  #record(name: string, viaExports: boolean, eager: boolean, typeofOnly: boolean): void {
    const seen = this.#refs.get(name);
    if (!seen) {
      this.#refs.set(name, { name, viaExports, eager, typeofOnly });
      return;
    }
    // A plain reference wins over `exports.NAME`: it may also be a global.
    seen.viaExports &&= viaExports;
    seen.eager ||= eager;
    seen.typeofOnly &&= typeofOnly;
  }

  /** Whether the reference runs when the root is defined rather than when it is called. */
  #isEager(id: TS.Node): boolean {
    const ts = this.#ts;
    let child: TS.Node = id;
    let parent: TS.Node | undefined = id.parent;
    while (parent && child !== this.#root) {
      if (isFunctionScope(ts, parent) && !ts.isClassStaticBlockDeclaration(parent) && child !== (parent as { name?: TS.Node }).name) {
        return false;
      }
      if (ts.isPropertyDeclaration(parent) && parent.initializer === child && !isStatic(ts, parent)) return false;
      child = parent;
      parent = parent.parent;
    }
    return true;
  }
}

function isDeclared(scope: Scope | undefined, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.has(name)) return true;
  return false;
}

function isStatic(ts: typeof TS, node: TS.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
}

/** Nodes whose body is a function scope (var/params/arguments live there). */
function isFunctionScope(ts: typeof TS, node: TS.Node | undefined): boolean {
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

function isLexical(ts: typeof TS, list: TS.VariableDeclarationList): boolean {
  return (list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const | ts.NodeFlags.Using | ts.NodeFlags.AwaitUsing)) !== 0;
}

/** Names bound by an identifier or a destructuring pattern. */
function collectBindingNames(ts: typeof TS, name: TS.BindingName, into: Set<string>): void {
  if (ts.isIdentifier(name)) {
    into.add(name.text);
    return;
  }
  for (const element of name.elements) {
    if (ts.isBindingElement(element)) collectBindingNames(ts, element.name, into);
  }
}

/** `var` declarations anywhere in a function body, not inside nested functions or classes. */
function collectVarNames(ts: typeof TS, node: TS.Node, into: Set<string>): void {
  ts.forEachChild(node, (child) => {
    if (isFunctionScope(ts, child) || ts.isClassLike(child)) return;
    if (ts.isVariableDeclarationList(child) && !isLexical(ts, child)) {
      for (const d of child.declarations) collectBindingNames(ts, d.name, into);
    }
    collectVarNames(ts, child, into);
  });
}

/** let/const/class/function declarations made directly in a statement list. */
function collectLexicalNames(ts: typeof TS, statements: readonly TS.Statement[], into: Set<string>): void {
  for (const stmt of statements) {
    if (ts.isVariableStatement(stmt) && isLexical(ts, stmt.declarationList)) {
      for (const d of stmt.declarationList.declarations) collectBindingNames(ts, d.name, into);
    } else if ((ts.isFunctionDeclaration(stmt) || ts.isClassDeclaration(stmt)) && stmt.name) {
      into.add(stmt.name.text);
    }
  }
}

/** Whether an identifier is a use of a binding (not a declaration, label or property name). */
function isReference(ts: typeof TS, id: TS.Identifier): boolean {
  const p = id.parent;
  if (!p) return false;
  if (ts.isPropertyAccessExpression(p)) return p.expression === id;
  if (ts.isVariableDeclaration(p) || ts.isParameter(p)) return p.name !== id;
  if (ts.isBindingElement(p)) return p.name !== id && p.propertyName !== id;
  if (
    ts.isFunctionDeclaration(p) ||
    ts.isFunctionExpression(p) ||
    ts.isClassDeclaration(p) ||
    ts.isClassExpression(p) ||
    ts.isMethodDeclaration(p) ||
    ts.isPropertyDeclaration(p) ||
    ts.isGetAccessorDeclaration(p) ||
    ts.isSetAccessorDeclaration(p) ||
    ts.isPropertyAssignment(p) ||
    ts.isEnumMember(p)
  ) {
    return p.name !== id;
  }
  if (ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p)) return false;
  if (ts.isMetaProperty(p)) return false;
  if (ts.isJsxAttribute(p)) return p.name !== id;
  // ShorthandPropertyAssignment (`{a}`) is a reference on purpose.
  return true;
}
