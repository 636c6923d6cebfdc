/**
 * Name resolution for one cell. A throwaway TypeScript program over the cell alone (no lib, no
 * imports) gives each identifier its declaration, so shadowing is handled by the real binder
 * instead of a hand-written scope walk. Names the cell does not declare come back as free:
 * globals, or names from earlier cells of the notebook.
 */
import ts from 'typescript';

export interface CellProgram {
  readonly file: ts.SourceFile;
  /** The cell does not parse: the engine reports that, with its usual message. */
  readonly hasSyntaxErrors: boolean;
  /** The declaration an identifier refers to, or undefined for a free name. */
  declarationOf(id: ts.Identifier): ts.Declaration | undefined;
  lineOf(node: ts.Node): number;
  columnOf(node: ts.Node): number;
}

const kFileName = '/cell.ts';

export function createCellProgram(source: string, lineOffset: number): CellProgram {
  const file = ts.createSourceFile(kFileName, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const host: ts.CompilerHost = {
    getSourceFile: (name) => (name === kFileName ? file : undefined),
    getDefaultLibFileName: () => '/lib.d.ts',
    writeFile: () => undefined,
    getCurrentDirectory: () => '/',
    getCanonicalFileName: (name) => name,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
    fileExists: (name) => name === kFileName,
    readFile: () => undefined,
  };
  const program = ts.createProgram({
    rootNames: [kFileName],
    options: { noLib: true, noResolve: true, types: [], target: ts.ScriptTarget.ES2022, allowJs: false },
    host,
  });
  const checker = program.getTypeChecker();

  return {
    file,
    hasSyntaxErrors: program.getSyntacticDiagnostics(file).length > 0,
    declarationOf(id) {
      const parent = id.parent;
      const symbol =
        parent && ts.isShorthandPropertyAssignment(parent) && parent.name === id
          ? checker.getShorthandAssignmentValueSymbol(parent)
          : checker.getSymbolAtLocation(id);
      const decl = symbol?.declarations?.[0];
      return decl && decl.getSourceFile() === file ? decl : undefined;
    },
    lineOf: (node) => file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1 + lineOffset,
    columnOf: (node) => file.getLineAndCharacterOfPosition(node.getStart(file)).character + 1,
  };
}

/** Whether an identifier is used as a value (not a property name, a declaration name, a label…). */
export function isValueReference(id: ts.Identifier): boolean {
  const p = id.parent;
  if (!p) return false;
  if (ts.isPropertyAccessExpression(p)) return p.expression === id;
  if (ts.isQualifiedName(p)) return false;
  if (ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p)) return p.name !== id;
  if (ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p) || ts.isEnumMember(p)) return p.name !== id;
  if (ts.isBindingElement(p)) return p.name !== id && p.propertyName !== id;
  if (ts.isVariableDeclaration(p) || ts.isParameter(p)) return p.name !== id;
  if (ts.isFunctionDeclaration(p) || ts.isFunctionExpression(p)) return p.name !== id;
  if (ts.isClassDeclaration(p) || ts.isClassExpression(p)) return p.name !== id;
  if (ts.isLabeledStatement(p) || ts.isBreakStatement(p) || ts.isContinueStatement(p)) return false;
  if (ts.isMetaProperty(p)) return false;
  if (ts.isImportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p) || ts.isExportSpecifier(p)) {
    return false;
  }
  if (ts.isInterfaceDeclaration(p) || ts.isTypeAliasDeclaration(p) || ts.isTypeParameterDeclaration(p)) return false;
  if (ts.isEnumDeclaration(p) || ts.isModuleDeclaration(p)) return p.name !== id;
  return true;
}

export { isFunctionBoundary } from '../../util/scope.js';

/** Skips wrapping parentheses and type assertions upwards: `(x as any)` stands for x. */
export function climbTransparent(node: ts.Node): ts.Node {
  let n = node;
  while (
    n.parent &&
    (ts.isParenthesizedExpression(n.parent) ||
      ts.isAsExpression(n.parent) ||
      ts.isNonNullExpression(n.parent) ||
      ts.isSatisfiesExpression(n.parent) ||
      ts.isTypeAssertionExpression(n.parent))
  ) {
    n = n.parent;
  }
  return n;
}

export function skipTransparent(node: ts.Expression): ts.Expression {
  let n = node;
  while (
    ts.isParenthesizedExpression(n) ||
    ts.isAsExpression(n) ||
    ts.isNonNullExpression(n) ||
    ts.isSatisfiesExpression(n) ||
    ts.isTypeAssertionExpression(n)
  ) {
    n = n.expression;
  }
  return n;
}

/** Whether `node` is written by the expression around it: `node = …`, `node += …`, `node++`, `[node] = …`. */
export function isAssignmentTarget(node: ts.Node): boolean {
  const n = climbTransparent(node);
  const p = n.parent;
  if (!p) return false;
  if (ts.isBinaryExpression(p) && p.left === n && isAssignmentOperator(p.operatorToken.kind)) return true;
  if ((ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) && isIncrementOrDecrement(p.operator)) {
    return true;
  }
  if ((ts.isForOfStatement(p) || ts.isForInStatement(p)) && p.initializer === n) return true;
  // Destructuring assignment: [a, b] = …, ({ a } = …), [...rest] = …
  if (ts.isArrayLiteralExpression(p) || ts.isSpreadElement(p)) return isAssignmentTarget(p);
  if (ts.isShorthandPropertyAssignment(p) || ts.isSpreadAssignment(p)) return isAssignmentTarget(p.parent);
  if (ts.isPropertyAssignment(p) && p.initializer === n) return isAssignmentTarget(p.parent);
  if (ts.isObjectLiteralExpression(p)) return isAssignmentTarget(p);
  return false;
}

export function isAssignmentOperator(kind: ts.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

export function isIncrementOrDecrement(op: ts.SyntaxKind): boolean {
  return op === ts.SyntaxKind.PlusPlusToken || op === ts.SyntaxKind.MinusMinusToken;
}

/** Whether `inner` lies within `outer` in the source text. */
export function contains(outer: ts.Node, inner: ts.Node): boolean {
  return inner.pos >= outer.pos && inner.end <= outer.end;
}
