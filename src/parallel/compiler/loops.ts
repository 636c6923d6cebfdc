/**
 * Finds the `for (const i of prange(…))` loops of a cell. Loops inside another prange body are
 * nested: they run serially, inside the outer loop's threads.
 */
import ts from 'typescript';

export interface PrangeLoop {
  readonly statement: ts.ForOfStatement;
  readonly call: ts.CallExpression;
  /** `outer: for (…)`: the label stays with the loop. */
  readonly labeled?: ts.LabeledStatement;
}

export interface NestedPrangeLoop extends PrangeLoop {
  readonly outer: PrangeLoop;
}

export function prangeCallOf(node: ts.Node): ts.CallExpression | undefined {
  if (!ts.isForOfStatement(node)) return undefined;
  const expr = node.expression;
  if (!ts.isCallExpression(expr) || !ts.isIdentifier(expr.expression) || expr.expression.text !== 'prange') return undefined;
  return expr;
}

export function findPrangeLoops(file: ts.SourceFile): { outer: PrangeLoop[]; nested: NestedPrangeLoop[] } {
  const outer: PrangeLoop[] = [];
  const nested: NestedPrangeLoop[] = [];
  const visit = (node: ts.Node, enclosing: PrangeLoop | undefined): void => {
    const call = prangeCallOf(node);
    if (call) {
      const statement = node as ts.ForOfStatement;
      const labeled = ts.isLabeledStatement(statement.parent) ? statement.parent : undefined;
      const loop: PrangeLoop = { statement, call, ...(labeled ? { labeled } : {}) };
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
