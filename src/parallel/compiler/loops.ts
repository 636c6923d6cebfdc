/**
 * Finds the `for (const i of prange(…))` loops of a cell. Loops inside another prange body are
 * nested: they run serially, inside the outer loop's threads.
 */
import ts from 'typescript';

/** `.reduction(op, a, b)` after prange(…): typed arrays reduced with op. */
export interface ReductionClause {
  readonly call: ts.CallExpression;
}

export interface PrangeLoop {
  readonly statement: ts.ForOfStatement;
  /** The prange(…) call itself (its arguments are the range). */
  readonly call: ts.CallExpression;
  /** Reduction clauses chained after it, in source order. */
  readonly clauses: readonly ReductionClause[];
  /** `outer: for (…)`: the label stays with the loop. */
  readonly labeled?: ts.LabeledStatement;
}

export interface NestedPrangeLoop extends PrangeLoop {
  readonly outer: PrangeLoop;
}

export function prangeCallOf(node: ts.Node): ts.CallExpression | undefined {
  return ts.isForOfStatement(node) ? prangeOf(node.expression)?.call : undefined;
}

/** `prange(…)`, optionally followed by `.reduction(…)` clauses. */
function prangeOf(expr: ts.Expression): { call: ts.CallExpression; clauses: ReductionClause[] } | undefined {
  const clauses: ReductionClause[] = [];
  let e = expr;
  while (
    ts.isCallExpression(e) &&
    ts.isPropertyAccessExpression(e.expression) &&
    ts.isIdentifier(e.expression.name) &&
    e.expression.name.text === 'reduction'
  ) {
    clauses.unshift({ call: e });
    e = e.expression.expression;
  }
  if (!ts.isCallExpression(e) || !ts.isIdentifier(e.expression) || e.expression.text !== 'prange') return undefined;
  return { call: e, clauses };
}

export function findPrangeLoops(file: ts.SourceFile): { outer: PrangeLoop[]; nested: NestedPrangeLoop[] } {
  const outer: PrangeLoop[] = [];
  const nested: NestedPrangeLoop[] = [];
  const visit = (node: ts.Node, enclosing: PrangeLoop | undefined): void => {
    const found = ts.isForOfStatement(node) ? prangeOf(node.expression) : undefined;
    if (found) {
      const statement = node as ts.ForOfStatement;
      const labeled = ts.isLabeledStatement(statement.parent) ? statement.parent : undefined;
      const loop: PrangeLoop = { statement, call: found.call, clauses: found.clauses, ...(labeled ? { labeled } : {}) };
      if (enclosing) nested.push({ ...loop, outer: enclosing });
      else outer.push(loop);
      ts.forEachChild(statement.statement, (child) => visit(child, enclosing ?? loop));
      return;
    }
    ts.forEachChild(node, (child) => visit(child, enclosing));
  };
  visit(file, undefined);
  return { outer, nested };
}
