/**
 * Lets a rank require() TypeScript files: each is transpiled on load (no type check: the
 * rank should start fast) to CommonJS with an inline source map, so that with source maps
 * enabled the stacks of a failing rank show the .ts lines.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import { hasTopLevelAwait } from '../../util/top-level-await.js';
import { transpileToCommonJs } from '../../util/transpile.js';

type CompilingModule = { _compile(code: string, filename: string): void };

let registered = false;

export function registerTypeScript(): void {
  if (registered) return;
  registered = true;
  // Loaded here, not at the top: only script ranks pay for loading the compiler.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const extensions = (Module as unknown as { _extensions: Record<string, (m: CompilingModule, filename: string) => void> })._extensions;
  const compile = (module: CompilingModule, filename: string): void => {
    const source = wrapTopLevelAwait(ts, fs.readFileSync(filename, 'utf8'), filename);
    module._compile(transpileToCommonJs(source, filename), filename);
  };
  for (const ext of ['.ts', '.cts', '.mts', '.tsx']) extensions[ext] = compile;
}

/** What a script with top-level await exports: the promise of its body, which the rank awaits. */
export const kScriptDone = '__tslab_parallel_script_done__';

/**
 * CommonJS has no top-level await, and a rank script is loaded with require(). A script that
 * awaits at its top level runs as an async function instead: everything after its imports is
 * wrapped (the opening on the same line as the first statement, so line numbers do not move),
 * and the promise is exported for the rank to await.
 */
function wrapTopLevelAwait(ts: typeof import('typescript'), source: string, filename: string): string {
  const file = ts.createSourceFile(filename, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  if (!hasTopLevelAwait(file)) return source;
  const body = file.statements.find((s) => !ts.isImportDeclaration(s) && !ts.isImportEqualsDeclaration(s));
  if (!body) return source;
  const at = body.getStart(file);
  return `${source.slice(0, at)}module.exports.${kScriptDone} = (async () => { ${source.slice(at)}\n})();\n`;
}
