/**
 * TypeScript files run by workers and ranks (a notebook's local modules, rank scripts): compiled
 * to CommonJS with an inline source map, so stacks show the .ts lines. No type check: the
 * notebook's cells are checked by the kernel; a file should start fast. typescript is loaded
 * on first use.
 */
import type * as TS from 'typescript';

export function transpileToCommonJs(source: string, fileName: string): string {
  const ts = require('typescript') as typeof TS;
  return ts.transpileModule(source, {
    fileName,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
      inlineSources: true,
      jsx: ts.JsxEmit.React,
    },
  }).outputText;
}
