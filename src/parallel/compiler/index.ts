/**
 * The %%parallel compiler: TypeScript cell in, TypeScript cell out, with every top-level prange
 * loop (in the cell or in functions it defines) turned into a call of the thread-team runtime.
 * Lines never move, so the engine's errors and our messages point at the user's lines.
 */
import ts from 'typescript';
import type { LoopSpec, Schedule } from '../spec.js';
import { analyzeLoop, type CapturedName } from './analyze.js';
import { globalExpression } from '../../util/global-object.js';
import { checkBody, checkHeader } from './checks.js';
import { LineKeepingEditor } from './edits.js';
import { findPrangeLoops } from './loops.js';
import { Messages, type CompileMessage } from './messages.js';
import { createCellProgram } from './program.js';
import { rewriteLoop, rewriteNestedLoop } from './transform.js';

export { formatMessage, categoryOf, type CompileMessage, type MessageCode, type Severity } from './messages.js';

/** How compiled code reaches the runtime: a global, so that shipped copies of the code find it too. */
export const kRuntimeExpression = globalExpression('__tsp_parallel');

export interface CompileOptions {
  /** Team size baked into the cell's loops (`%%parallel -n`). */
  readonly threads?: number;
  readonly schedule?: Schedule;
  /** Added to line numbers in messages and specs: the cell line where `source` starts, minus one. */
  readonly lineOffset?: number;
  /** Whether a name the cell does not declare belongs to the notebook (an earlier cell). */
  readonly isNotebookName?: (name: string) => boolean;
  /** Expression for the runtime in compiled code (default kRuntimeExpression). */
  readonly runtime?: string;
}

export interface CompiledLoop {
  readonly spec: LoopSpec;
  readonly indexName: string;
  readonly captured: readonly CapturedName[];
}

export interface CompileResult {
  /** The compiled cell, with the same number of lines as the source; the source itself when there are errors. */
  readonly code: string;
  readonly messages: readonly CompileMessage[];
  readonly loops: readonly CompiledLoop[];
  /** Whether a message is an error: then `code` must not run. */
  readonly hasErrors: boolean;
}

export function compileParallelCell(source: string, options: CompileOptions = {}): CompileResult {
  const lineOffset = options.lineOffset ?? 0;
  const program = createCellProgram(source, lineOffset);
  const { file } = program;
  // Syntax errors are the engine's to report, with its usual message: leave the cell as it is.
  if (program.hasSyntaxErrors) return { code: source, messages: [], loops: [], hasErrors: false };

  const { outer, nested } = findPrangeLoops(file);
  if (outer.length === 0) {
    const first = file.statements[0];
    const at = first ? { line: program.lineOf(first), column: program.columnOf(first) } : { line: lineOffset + 1, column: 1 };
    return { code: source, messages: [Messages.noPrange(at)], loops: [], hasErrors: false };
  }

  const messages: CompileMessage[] = [];
  const editor = new LineKeepingEditor(source);
  const loops: CompiledLoop[] = [];
  for (const loop of outer) {
    const before = messages.length;
    checkHeader(program, loop, messages);
    if (messages.slice(before).some((m) => m.severity === 'error')) continue;
    checkBody(program, loop, messages);
    const plan = analyzeLoop(program, loop, { ...(options.isNotebookName ? { isNotebookName: options.isNotebookName } : {}) }, messages);
    const anchor = anchorOf(file, loop.statement);
    const spec = rewriteLoop(file, editor, plan, {
      runtime: options.runtime ?? kRuntimeExpression,
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.schedule === undefined ? {} : { schedule: options.schedule }),
      ...(anchor === undefined ? {} : { anchor }),
    });
    loops.push({ spec, indexName: plan.indexName, captured: plan.captured });
  }
  nested.forEach((loop, k) => rewriteNestedLoop(file, editor, loop, k));

  messages.sort((a, b) => a.line - b.line || a.column - b.column);
  const hasErrors = messages.some((m) => m.severity === 'error');
  return { code: hasErrors ? source : editor.apply(), messages, loops, hasErrors };
}

/** The top-level declaration enclosing the loop, else the cell's first top-level declaration. */
function anchorOf(file: ts.SourceFile, node: ts.Node): string | undefined {
  let top: ts.Node = node;
  while (top.parent && top.parent !== file) top = top.parent;
  const nameOf = (stmt: ts.Node): string | undefined => {
    if ((ts.isFunctionDeclaration(stmt) || ts.isClassDeclaration(stmt)) && stmt.name) return stmt.name.text;
    if (ts.isVariableStatement(stmt)) {
      const d = stmt.declarationList.declarations[0];
      if (d && ts.isIdentifier(d.name)) return d.name.text;
    }
    return undefined;
  };
  return nameOf(top) ?? file.statements.map(nameOf).find((n) => n !== undefined);
}
