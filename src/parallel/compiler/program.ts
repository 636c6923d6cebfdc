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

// Names are classified by the one scope analysis that shipping uses too (src/util/scope.ts), under
// the names this compiler has always called them.
export {
  climbTransparent,
  isAssignmentOperator,
  isFunctionBoundary,
  isIncrementOrDecrement,
  isReference as isValueReference,
  isWritten as isAssignmentTarget,
  skipTransparent,
} from '../../util/scope.js';

/** Whether `inner` lies within `outer` in the source text. */
export function contains(outer: ts.Node, inner: ts.Node): boolean {
  return inner.pos >= outer.pos && inner.end <= outer.end;
}
