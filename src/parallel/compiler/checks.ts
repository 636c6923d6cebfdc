/**
 * Statements that cannot run inside a prange body: the body becomes a function that threads
 * call for blocks of iterations, so it cannot await, yield, return, break out of the loop, or
 * use the enclosing function's `this` and `arguments`.
 */
import ts from 'typescript';
import { Messages, type CompileMessage } from './messages.js';
import { isFunctionBoundary, isValueReference, type CellProgram } from './program.js';
import { prangeCallOf, type PrangeLoop } from './loops.js';

export function checkBody(program: CellProgram, loop: PrangeLoop, messages: CompileMessage[]): void {
  const at = (node: ts.Node) => ({ line: program.lineOf(node), column: program.columnOf(node) });
  const loopLine = program.lineOf(loop.labeled ?? loop.statement);
  const ownLabel = loop.labeled?.label.text;

  interface Context {
    /** Inside a function declared in the body: return/await/yield are its own. */
    readonly inFunction: boolean;
    /** Inside a non-arrow function: `this` and `arguments` are its own. */
    readonly ownThis: boolean;
    /** Inside a loop or switch of the body: an unlabelled break stays in the body. */
    readonly breakable: boolean;
    readonly labels: ReadonlySet<string>;
  }

  const visit = (node: ts.Node, ctx: Context): void => {
    if (isFunctionBoundary(node)) {
      const ownThis = ctx.ownThis || !ts.isArrowFunction(node);
      const inner: Context = { inFunction: true, ownThis, breakable: false, labels: new Set() };
      ts.forEachChild(node, (child) => visit(child, inner));
      return;
    }
    if (ts.isClassDeclaration(node) || ts.isClassExpression(node)) {
      const inner: Context = { inFunction: true, ownThis: true, breakable: false, labels: new Set() };
      ts.forEachChild(node, (child) => visit(child, inner));
      return;
    }
    if (!ctx.inFunction) {
      if (ts.isAwaitExpression(node)) messages.push(Messages.awaitInBody(at(node)));
      if (ts.isYieldExpression(node)) messages.push(Messages.yieldInBody(at(node)));
      if (ts.isReturnStatement(node)) messages.push(Messages.returnInBody(at(node), loopLine));
      if (ts.isForOfStatement(node) && node.awaitModifier) messages.push(Messages.awaitInBody(at(node)));
    }
    if (ts.isBreakStatement(node)) {
      const escapes = node.label ? !ctx.labels.has(node.label.text) : !ctx.breakable;
      if (escapes && !(ctx.inFunction && !node.label)) messages.push(Messages.breakOutOfBody(at(node), 'break', loopLine));
    }
    if (ts.isContinueStatement(node) && node.label) {
      const label = node.label.text;
      if (!ctx.labels.has(label) && label !== ownLabel) messages.push(Messages.breakOutOfBody(at(node), 'continue', loopLine));
    }
    if (!ctx.ownThis) {
      if (node.kind === ts.SyntaxKind.ThisKeyword) messages.push(Messages.thisInBody(at(node)));
      if (ts.isIdentifier(node) && node.text === 'arguments' && isValueReference(node) && !program.declarationOf(node)) {
        messages.push(Messages.argumentsInBody(at(node)));
      }
    }
    if (prangeCallOf(node)) messages.push(Messages.nestedPrange(at(node), loopLine));

    const isLoop = ts.isIterationStatement(node, false);
    const labels = ts.isLabeledStatement(node) ? new Set([...ctx.labels, node.label.text]) : ctx.labels;
    const inner: Context = { ...ctx, labels, breakable: ctx.breakable || isLoop || ts.isSwitchStatement(node) };
    ts.forEachChild(node, (child) => visit(child, inner));
  };
  visit(loop.statement.statement, { inFunction: false, ownThis: false, breakable: false, labels: new Set() });
}

/** The shape of the loop itself: one plain loop variable, plain prange arguments, no `for await`. */
export function checkHeader(program: CellProgram, loop: PrangeLoop, messages: CompileMessage[]): void {
  const at = (node: ts.Node) => ({ line: program.lineOf(node), column: program.columnOf(node) });
  const { statement, call } = loop;
  if (statement.awaitModifier) messages.push(Messages.forAwait(at(statement)));
  const init = statement.initializer;
  if (
    !ts.isVariableDeclarationList(init) ||
    init.declarations.length !== 1 ||
    !ts.isIdentifier(init.declarations[0]!.name)
  ) {
    messages.push(Messages.indexPattern(at(init)));
  }
  const args = call.arguments;
  if (args.some((a) => ts.isSpreadElement(a))) messages.push(Messages.prangeArguments(at(call), -1));
  else if (args.length < 1 || args.length > 3) messages.push(Messages.prangeArguments(at(call), args.length));
  for (const clause of loop.clauses) {
    const [op, ...arrays] = clause.call.arguments;
    if (!op || !ts.isStringLiteral(op) || !['+', '*', 'max', 'min'].includes(op.text)) {
      messages.push(Messages.reductionClause(at(clause.call), `the reduction's operator must be a string: '+', '*', 'max' or 'min'`));
    } else if (arrays.length === 0) {
      messages.push(Messages.reductionClause(at(clause.call), `reduction('${op.text}') names no array`));
    }
    for (const a of arrays) {
      if (!ts.isIdentifier(a)) messages.push(Messages.reductionClause(at(a), `reduction(…) takes array variables, not '${a.getText()}'`));
    }
  }
}
