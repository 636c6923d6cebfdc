/**
 * Splits a cell into what runs in order: TypeScript, line magics (`%name args` as a whole line),
 * shell lines (`!command`), or one cell magic (`%%name args` on the first line, the rest is its
 * body). Magic and shell lines start at column 0; TypeScript never starts a line with `%`, and
 * a line of TypeScript that starts with `!` can be indented or parenthesised. A line inside a
 * multi-line template literal, string or block comment is text of that literal, never a magic
 * or a command (`!important` in a markdown template must not run `important`).
 *
 * As in IPython, `x = !cmd` and `!!cmd` capture a command's output lines (the %sx magic). In
 * TypeScript `x = !y` is also a negation: it stays TypeScript when it parses as an expression
 * whose names the notebook or the cell's earlier lines know (`done = !failed`), and is a
 * command otherwise (`files = !ls -la`, `cores = !nproc`).
 */
import type * as TS from 'typescript';
import { hasGlobal } from '../util/global-object.js';

export type Segment =
  | { readonly kind: 'code'; readonly source: string; readonly line: number }
  /** `assign`: the variable of `name = %magic args`, which receives the magic's value (as in IPython). */
  | { readonly kind: 'line-magic'; readonly name: string; readonly args: string; readonly line: number; readonly help: boolean; readonly assign?: string }
  | { readonly kind: 'cell-magic'; readonly name: string; readonly args: string; readonly body: string; readonly line: number; readonly help: boolean }
  | { readonly kind: 'shell'; readonly command: string; readonly line: number };

const kCellMagic = /^%%([A-Za-z_][\w-]*)(\?{1,2})?(?:[ \t]+(.*))?$/;
const kLineMagic = /^%([A-Za-z_][\w-]*)(\?{1,2})?(?:[ \t]+(.*))?$/;
const kAssignedLineMagic = /^(?:(?:const|let|var)\s+)?([A-Za-z_$][\w$]*)\s*=\s*%([A-Za-z_][\w-]*)(?:[ \t]+(.*))?$/;
const kHelpPrefix = /^\?{1,2}(%{1,2})([A-Za-z_][\w-]*)\s*$/;
const kShell = /^!(.*\S.*)$/;
const kCapturedShell = /^!!(.*\S.*)$/;
const kAssignedShell = /^(?:(?:const|let|var)\s+)?([A-Za-z_$][\w$]*)\s*=\s*!(?!=)(.*\S.*)$/;
/** The line magic that captures a command's output, as IPython's `!!cmd` is `%sx cmd`. */
const kCaptureMagic = 'sx';

/** `known(name)`: whether the notebook defines a name (to tell `x = !y` negation from `x = !cmd`). */
export function parseCell(text: string, known: (name: string) => boolean = () => false): Segment[] {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0) {
    const cell = kCellMagic.exec(lines[first].trimEnd());
    if (cell) {
      return [{
        kind: 'cell-magic',
        name: cell[1],
        help: !!cell[2],
        args: (cell[3] ?? '').trim(),
        body: lines.slice(first + 1).join('\n'),
        line: first + 1,
      }];
    }
  }

  const segments: Segment[] = [];
  let code: string[] = [];
  let codeStart = 1;
  const flush = (nextLine: number) => {
    if (code.some((l) => l.trim() !== '')) segments.push({ kind: 'code', source: code.join('\n'), line: codeStart });
    code = [];
    codeStart = nextLine;
  };
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trimEnd();
    if ((/^[%!?]/.test(line) || kAssignedLineMagic.test(line) || kAssignedShell.test(line)) && code.length > 0 && endsInsideLiteral(code.join('\n'))) {
      code.push(raw);
      return;
    }
    const help = kHelpPrefix.exec(line);
    if (help) {
      flush(lineNo + 1);
      const name = help[2];
      segments.push(help[1] === '%%'
        ? { kind: 'cell-magic', name, help: true, args: '', body: '', line: lineNo }
        : { kind: 'line-magic', name, help: true, args: '', line: lineNo });
      return;
    }
    if (kCellMagic.test(line)) {
      // Recognised so that the error can say it must come first, rather than a syntax error.
      flush(lineNo + 1);
      const m = kCellMagic.exec(line)!;
      segments.push({ kind: 'cell-magic', name: m[1], help: !!m[2], args: '', body: '\0misplaced', line: lineNo });
      return;
    }
    const assigned = kAssignedLineMagic.exec(line);
    if (assigned) {
      flush(lineNo + 1);
      segments.push({ kind: 'line-magic', name: assigned[2], help: false, args: (assigned[3] ?? '').trim(), line: lineNo, assign: assigned[1] });
      return;
    }
    const capturedShell = kAssignedShell.exec(line);
    if (capturedShell && !readsAsNegation(capturedShell[2], lines.slice(0, i).join('\n'), known)) {
      flush(lineNo + 1);
      segments.push({ kind: 'line-magic', name: kCaptureMagic, help: false, args: capturedShell[2].trim(), line: lineNo, assign: capturedShell[1] });
      return;
    }
    const captured = kCapturedShell.exec(line);
    if (captured) {
      flush(lineNo + 1);
      segments.push({ kind: 'line-magic', name: kCaptureMagic, help: false, args: captured[1].trim(), line: lineNo });
      return;
    }
    const magic = kLineMagic.exec(line);
    if (magic) {
      flush(lineNo + 1);
      segments.push({ kind: 'line-magic', name: magic[1], help: !!magic[2], args: (magic[3] ?? '').trim(), line: lineNo });
      return;
    }
    const shell = kShell.exec(line);
    if (shell) {
      flush(lineNo + 1);
      segments.push({ kind: 'shell', command: shell[1].trim(), line: lineNo });
      return;
    }
    if (code.length === 0) codeStart = lineNo;
    code.push(raw);
  });
  flush(lines.length + 1);
  return segments;
}

/** Whether a segment is a cell magic that was not on the first line (an error to report). */
export function isMisplacedCellMagic(s: Segment): boolean {
  return s.kind === 'cell-magic' && s.body === '\0misplaced';
}

/**
 * Whether `!rest` is TypeScript: it parses as one expression and each name it reads is known
 * (to the notebook, as a global, or mentioned in the cell above).
 */
function readsAsNegation(rest: string, above: string, known: (name: string) => boolean): boolean {
  const { ts } = scanning();
  const file = ts.createSourceFile('line.ts', `(!${rest}\n);`, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const parseErrors = (file as unknown as { parseDiagnostics?: readonly unknown[] }).parseDiagnostics ?? [];
  if (parseErrors.length > 0 || file.statements.length !== 1) return false;
  let allKnown = true;
  const visit = (node: TS.Node): void => {
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isMember = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node);
      const name = node.text;
      if (!isMember && !known(name) && !hasGlobal(name) && !new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`).test(above)) allKnown = false;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return allKnown;
}

/**
 * The scanner and the tokens after which a `/` divides (elsewhere it starts a regular
 * expression), made on first use: most cells have no magic line after code, and the kernel
 * should not load a compiler at start-up for them.
 */
let scannerKit: { ts: typeof TS; scanner: TS.Scanner; beforeDivision: Set<TS.SyntaxKind> } | undefined;
function scanning(): NonNullable<typeof scannerKit> {
  if (scannerKit) return scannerKit;
  const ts = require('typescript') as typeof TS;
  const k = ts.SyntaxKind;
  scannerKit = {
    ts,
    scanner: ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard),
    beforeDivision: new Set<TS.SyntaxKind>([
      k.Identifier, k.PrivateIdentifier, k.NumericLiteral, k.BigIntLiteral, k.StringLiteral, k.NoSubstitutionTemplateLiteral,
      k.TemplateTail, k.RegularExpressionLiteral, k.CloseParenToken, k.CloseBracketToken, k.CloseBraceToken, k.PlusPlusToken,
      k.MinusMinusToken, k.ThisKeyword, k.SuperKeyword, k.TrueKeyword, k.FalseKeyword, k.NullKeyword,
    ]),
  };
  return scannerKit;
}

/**
 * Whether the end of `code` is inside a template literal (or one of its `${…}`), a string
 * continued with a backslash, or a block comment: the next line then belongs to it.
 */
export function endsInsideLiteral(code: string): boolean {
  const { ts, scanner, beforeDivision } = scanning();
  scanner.setText(code);
  const braces: boolean[] = []; // for each open brace: whether it is a template's `${`
  let previous = ts.SyntaxKind.Unknown;
  let unterminated = false;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if ((token === ts.SyntaxKind.SlashToken || token === ts.SyntaxKind.SlashEqualsToken) && !beforeDivision.has(previous)) {
      token = scanner.reScanSlashToken();
    } else if (token === ts.SyntaxKind.CloseBraceToken && braces.pop()) {
      token = scanner.reScanTemplateToken(false);
    } else if (token === ts.SyntaxKind.OpenBraceToken) {
      braces.push(false);
    }
    if (token === ts.SyntaxKind.TemplateHead || token === ts.SyntaxKind.TemplateMiddle) braces.push(true);
    unterminated = scanner.isUnterminated();
    const trivia = token === ts.SyntaxKind.WhitespaceTrivia || token === ts.SyntaxKind.NewLineTrivia ||
      token === ts.SyntaxKind.SingleLineCommentTrivia || token === ts.SyntaxKind.MultiLineCommentTrivia;
    if (!trivia) previous = token;
  }
  return unterminated || braces.includes(true);
}
