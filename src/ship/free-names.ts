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
import { analyzeScopes, isFunctionBoundary } from '../util/scope.js';
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

interface MutableReference {
  name: string;
  viaExports: boolean;
  eager: boolean;
  typeofOnly: boolean;
}

/**
 * The free names of the shipped root (the shared scope analysis finds them), classified for
 * shipping: `exports.NAME` is a reference to the notebook name NAME, `typeof x` tolerates a
 * missing x, and some references run when the root is defined rather than when it is called.
 */
class ScopeWalker {
  readonly #ts: typeof TS;
  readonly #root: TS.Node;
  readonly #refs = new Map<string, MutableReference>();
  dynamicExports = false;

  constructor(ts: typeof TS, root: TS.Node) {
    this.#ts = ts;
    this.#root = root;
  }

  run(): void {
    for (const ref of analyzeScopes(this.#root).references) {
      if (ref.resolution === 'free') this.#reference(ref.node);
    }
  }

  references(): FreeReference[] {
    return [...this.#refs.values()];
  }

  #reference(id: TS.Identifier): void {
    const ts = this.#ts;
    const name = id.text;
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
      if (isFunctionBoundary(parent) && !ts.isClassStaticBlockDeclaration(parent) && child !== (parent as { name?: TS.Node }).name) {
        return false;
      }
      if (ts.isPropertyDeclaration(parent) && parent.initializer === child && !isStatic(ts, parent)) return false;
      child = parent;
      parent = parent.parent;
    }
    return true;
  }
}

function isStatic(ts: typeof TS, node: TS.Node): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
}






