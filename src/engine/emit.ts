/**
 * Compiles a cell's TypeScript into the JavaScript the executor runs, with a source map.
 *
 * tslab's converter type-checks cells and keeps their declarations; its own output cannot be
 * mapped back to the cell's lines (it re-prints the code: blank lines vanish, enums and
 * parameter properties grow), and it drops earlier cells' names in object shorthand
 * (`{ a }`). So the code that runs is emitted here, with the same conventions:
 * - names declared by earlier cells are read and written as `exports.NAME`;
 * - names the cell declares at its top level are exported to `exports` as they are assigned;
 * - a final expression statement becomes the cell's value (returned).
 */
import type * as TS from 'typescript';
import { checkerTypescript } from './checker.js';
import { analyzeScopes, withTypeScript } from '../util/scope.js';
import { hasTopLevelAwait } from '../util/top-level-await.js';
import { declarationsOf, type Declaration } from './declarations.js';
import { LineMap } from './source-map.js';

/** The checker's TypeScript: one compiler in the kernel (scope analysis runs with it too). */
const ts = checkerTypescript();

export interface EmitOptions {
  /** Name the code runs under, as stack frames show it: "In[3]". */
  readonly fileName: string;
  /** Names bound in the notebook namespace before this cell. */
  readonly previous: ReadonlySet<string>;
  /** Turn a final expression statement into the value of the cell. */
  readonly captureLastExpression: boolean;
  /**
   * Let the emit resolver type-check the cell first (true), or not (false); by default only
   * when the code needs facts that only that check records (see needsCheckerFacts).
   */
  readonly typeCheck?: boolean;
}

/** What emitting produces, as plain data (it crosses from the emit worker). */
export interface EmittedText {
  /** CommonJS-style body, to be wrapped in `function (exports, require, module, __filename, __dirname)`. */
  readonly js: string;
  /** The source map (v3 JSON) of `js`. */
  readonly mapText: string;
  /** The cell awaits at its top level, so it runs as an async function. */
  readonly isAsync: boolean;
  /** Value declarations made at the cell's top level. */
  readonly declarations: readonly Declaration[];
  /** The cell ends with an expression whose value is returned. */
  readonly hasValue: boolean;
  /** Free names of the cell that are neither earlier cells' names nor its own (globals). */
  readonly free: readonly string[];
}

const kCompilerOptions: TS.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  esModuleInterop: true,
  experimentalDecorators: true,
  jsx: ts.JsxEmit.React,
  sourceMap: true,
  isolatedModules: true,
  noLib: true,
  noResolve: true,
  noEmitHelpers: false,
  removeComments: false,
  newLine: ts.NewLineKind.LineFeed,
  // Names of the cell are read from `exports` by later cells even when they look unused here.
  verbatimModuleSyntax: false,
};

export interface EmitResult extends Omit<EmittedText, 'mapText'> {
  readonly map: LineMap;
}

export function emitCell(typed: string, options: EmitOptions): EmitResult {
  const { mapText, ...rest } = emitCellText(typed, options);
  return { ...rest, map: LineMap.parse(mapText) };
}

export function emitCellText(typed: string, options: EmitOptions): EmittedText {
  return withTypeScript(ts, () => emitWithScopes(typed, options));
}

function emitWithScopes(typed: string, options: EmitOptions): EmittedText {
  const parse = (text: string) => ts.createSourceFile(options.fileName + '.ts', text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const original = parse(typed);
  const declarations = declarationsOf(original);
  const source = importsAsRequires(original);
  const exported = declarations.map((d) => d.name);
  // The export list goes after the last line, so it cannot move any line of the cell. It is
  // always there, even empty: it makes the cell a module, where a top-level `await (…)` is an
  // await (in a script TypeScript reads it as a call of a function named `await`).
  const text = `${source}\n;export { ${exported.join(', ')} };\n`;
  const analysisFile = parse(text);
  const statements = analysisFile.statements.slice(0, -1); // the cell's own, without the export
  const scopes = analyzeScopes(analysisFile);
  const rewrite = new Set<number>();
  const free: string[] = [];
  for (const ref of scopes.references) {
    if (ref.resolution !== 'free') continue;
    if (options.previous.has(ref.name)) rewrite.add(ref.node.end);
    else if (!free.includes(ref.name)) free.push(ref.name);
  }
  const isAsync = hasTopLevelAwait(analysisFile, ts);
  const last = statements.at(-1);
  const hasValue = options.captureLastExpression && !!last && ts.isExpressionStatement(last);

  // Matched by the expression's end: the appended `;export` can become the statement's own `;`.
  const lastEnd = hasValue ? (last as TS.ExpressionStatement).expression.end : -1;
  const { js, mapText } = transpile(analysisFile, options.typeCheck ?? needsCheckerFacts(text), [
    rewriteEarlierCellNames(rewrite),
    ...(hasValue ? [returnLastExpression(lastEnd)] : []),
  ]);
  return { js, mapText, isAsync, declarations, hasValue, free };
}

/**
 * Code whose emit reads facts that only a full type check of the file records (TypeScript 5.0's
 * emit resolver checks the whole file first; 5.0 has no `noCheck`): decorators (a decorated
 * class that refers to itself gets an alias) and `import X = N.Y` aliases (kept only when the
 * check saw them used). At ES2022 everything else emits the same without that check, classes
 * included (test/engine-emit-unchecked.test.ts compares both on a corpus), for a third of the
 * emit's time.
 */
const kNeedsCheckerFacts = /@|\bimport\b/;

function needsCheckerFacts(text: string): boolean {
  return kNeedsCheckerFacts.test(text);
}

const kUnresolvedModule: TS.ResolvedModuleWithFailedLookupLocations = { resolvedModule: undefined };
const kUnresolvedTypeReference: TS.ResolvedTypeReferenceDirectiveWithFailedLookupLocations = { resolvedTypeReferenceDirective: undefined };

const kUncheckedOptions: TS.CompilerOptions = { ...kCompilerOptions, skipDefaultLibCheck: true };

/**
 * Compiles with the given `before` transformers, in memory, from an already-parsed file. Unless
 * `check`, the emit resolver skips checking the file: TypeScript skips files marked as default
 * library (`hasNoDefaultLib`) under `skipDefaultLibCheck`, which marks nothing else for a
 * JavaScript emit.
 */
function transpile(sourceFile: TS.SourceFile, check: boolean, before: TS.TransformerFactory<TS.SourceFile>[]): { js: string; mapText: string } {
  const inputName = sourceFile.fileName;
  const lib = globalTypes();
  let js = '';
  let mapText = '';
  const host: TS.CompilerHost = {
    getSourceFile: (name) => (name === inputName ? sourceFile : name === lib.fileName ? lib : undefined),
    writeFile: (name, data) => {
      if (name.endsWith('.map')) mapText = data;
      else js = data;
    },
    getDefaultLibFileName: () => 'lib.d.ts',
    useCaseSensitiveFileNames: () => true,
    getCanonicalFileName: (n) => n,
    getCurrentDirectory: () => '',
    getNewLine: () => '\n',
    fileExists: (n) => n === inputName || n === lib.fileName,
    readFile: () => '',
    directoryExists: () => true,
    getDirectories: () => [],
    // Nothing is resolved (noResolve): answering for TypeScript spares it two resolution caches per cell.
    resolveModuleNameLiterals: (names) => names.map(() => kUnresolvedModule),
    resolveTypeReferenceDirectiveReferences: (names) => names.map(() => kUnresolvedTypeReference),
  };
  if (!check) (sourceFile as { hasNoDefaultLib: boolean }).hasNoDefaultLib = true;
  const program = ts.createProgram([lib.fileName, inputName], check ? kCompilerOptions : kUncheckedOptions, host);
  program.emit(sourceFile, undefined, undefined, false, { before, after: [tidyCommonJs] });
  return { js: js.replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n'), mapText };
}

/**
 * The global types a type checker looks up when it is created. Without them (noLib) each
 * creation queues a "cannot find global type" error per type, and reporting those looks up
 * which lib has the name, in a table built anew each time: a fifth of an emit. Parsed once;
 * programs share it.
 */
let globalTypesFile: TS.SourceFile | undefined;
function globalTypes(): TS.SourceFile {
  const text = '/// <reference no-default-lib="true"/>\n' +
    ['Array<T>', 'Boolean', 'Function', 'CallableFunction', 'NewableFunction', 'IArguments', 'Number', 'Object', 'RegExp', 'String'].map((t) => `interface ${t} {}\n`).join('');
  return (globalTypesFile ??= ts.createSourceFile('/tslab-parallel/emit-globals.d.ts', text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS));
}

/**
 * Imports become plain bindings of the cell: `import { f } from 'm'` → `const { f } = require('m')`.
 * TypeScript's own CommonJS output would call `m_1.f`, an alias that functions then capture and
 * that neither later cells nor shipping to workers know. Done on the text, before parsing, so
 * TypeScript's module transform sees ordinary constants; each statement keeps its line count.
 * Default imports keep esModuleInterop's meaning (`.default` of an ES module, else the module).
 */
export function importsAsRequires(file: TS.SourceFile): string {
  const text = file.text;
  let out = '';
  let at = 0;
  for (const s of file.statements) {
    const replacement = importReplacement(s);
    if (replacement === undefined) continue;
    const start = s.getStart(file);
    const lines = text.slice(start, s.end).split('\n').length - 1;
    out += text.slice(at, start) + replacement + '\n'.repeat(lines);
    at = s.end;
  }
  return at === 0 ? text : out + text.slice(at);
}

function importReplacement(s: TS.Statement): string | undefined {
  const req = (spec: TS.StringLiteral) => `require(${JSON.stringify(spec.text)})`;
  if (ts.isImportEqualsDeclaration(s) && ts.isExternalModuleReference(s.moduleReference) && ts.isStringLiteral(s.moduleReference.expression)) {
    return s.isTypeOnly ? '' : `const ${s.name.text} = ${req(s.moduleReference.expression)};`;
  }
  if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) return undefined;
  const clause = s.importClause;
  if (!clause) return `${req(s.moduleSpecifier)};`;
  if (clause.isTypeOnly) return '';
  const parts: string[] = [];
  if (clause.name) parts.push(`const ${clause.name.text} = ((m) => (m && m.__esModule ? m.default : m))(${req(s.moduleSpecifier)});`);
  const nb = clause.namedBindings;
  if (nb && ts.isNamespaceImport(nb)) parts.push(`const ${nb.name.text} = ${req(s.moduleSpecifier)};`);
  if (nb && ts.isNamedImports(nb)) {
    const names = nb.elements.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ? `${e.propertyName.text}: ${e.name.text}` : e.name.text));
    if (names.length) parts.push(`const { ${names.join(', ')} } = ${req(s.moduleSpecifier)};`);
  }
  return parts.join(' ');
}

/** `a` → `exports.a` where `a` was declared by an earlier cell (identified by end offset). */
function rewriteEarlierCellNames(ends: ReadonlySet<number>): TS.TransformerFactory<TS.SourceFile> {
  return (context) => {
    const f = context.factory;
    const ref = (name: string) => f.createPropertyAccessExpression(f.createIdentifier('exports'), name);
    const visit = (node: TS.Node): TS.Node => {
      if (ts.isShorthandPropertyAssignment(node) && ends.has(node.name.end)) {
        const value = node.objectAssignmentInitializer
          ? f.createBinaryExpression(ref(node.name.text), ts.SyntaxKind.EqualsToken, ts.visitNode(node.objectAssignmentInitializer, visit) as TS.Expression)
          : ref(node.name.text);
        return ts.setTextRange(f.createPropertyAssignment(node.name.text, value), node);
      }
      if (ts.isIdentifier(node) && ends.has(node.end)) {
        return ts.setTextRange(ref(node.text), node);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (file) => ts.visitEachChild(file, visit, context);
  };
}

/** The final expression statement becomes `return (expr)`. */
function returnLastExpression(end: number): TS.TransformerFactory<TS.SourceFile> {
  return (context) => (file) => {
    const statements = file.statements.map((s) =>
      ts.isExpressionStatement(s) && s.expression.end === end ? ts.setTextRange(context.factory.createReturnStatement(s.expression), s) : s,
    );
    return context.factory.updateSourceFile(file, statements);
  };
}

/**
 * Removes what the CommonJS output adds for real modules but hurts a notebook namespace:
 * the "use strict" prologue (cells run sloppy, as in tslab), `__esModule`, and re-exports as
 * non-configurable getters (a later cell importing the same name again would throw).
 */
const tidyCommonJs: TS.TransformerFactory<TS.SourceFile> = (context) => (file) => {
  const f = context.factory;
  const statements: TS.Statement[] = [];
  for (const s of file.statements) {
    if (ts.isExpressionStatement(s) && ts.isStringLiteral(s.expression) && s.expression.text === 'use strict') continue;
    const define = definePropertyOnExports(s);
    if (define?.name === '__esModule') continue;
    if (define?.getterValue) {
      statements.push(
        ts.setTextRange(
          f.createExpressionStatement(
            f.createAssignment(f.createPropertyAccessExpression(f.createIdentifier('exports'), define.name), define.getterValue),
          ),
          s,
        ),
      );
      continue;
    }
    statements.push(s);
  }
  return f.updateSourceFile(file, statements);
};

function definePropertyOnExports(s: TS.Statement): { name: string; getterValue?: TS.Expression } | undefined {
  if (!ts.isExpressionStatement(s) || !ts.isCallExpression(s.expression)) return undefined;
  const call = s.expression;
  const callee = call.expression;
  if (!ts.isPropertyAccessExpression(callee) || !ts.isIdentifier(callee.expression)) return undefined;
  if (callee.expression.text !== 'Object' || callee.name.text !== 'defineProperty') return undefined;
  const [target, name, descriptor] = call.arguments;
  if (!target || !ts.isIdentifier(target) || target.text !== 'exports' || !name || !ts.isStringLiteral(name)) return undefined;
  if (!descriptor || !ts.isObjectLiteralExpression(descriptor)) return { name: name.text };
  for (const p of descriptor.properties) {
    if (!ts.isPropertyAssignment(p) || !ts.isIdentifier(p.name) || p.name.text !== 'get') continue;
    const fn = p.initializer;
    if (!ts.isFunctionExpression(fn) && !ts.isArrowFunction(fn)) continue;
    const body = fn.body;
    if (ts.isBlock(body) && body.statements.length === 1 && ts.isReturnStatement(body.statements[0]) && body.statements[0].expression) {
      return { name: name.text, getterValue: body.statements[0].expression };
    }
  }
  return { name: name.text };
}
