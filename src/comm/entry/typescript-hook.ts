/**
 * Lets a rank require() TypeScript files: each is transpiled on load (no type check: the
 * rank should start fast) to CommonJS with an inline source map, so that with source maps
 * enabled the stacks of a failing rank show the .ts lines.
 */
import * as fs from 'node:fs';
import Module from 'node:module';

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
    const source = fs.readFileSync(filename, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        inlineSourceMap: true,
        inlineSources: true,
        jsx: ts.JsxEmit.React,
      },
    });
    module._compile(outputText, filename);
  };
  for (const ext of ['.ts', '.cts', '.mts', '.tsx']) extensions[ext] = compile;
}
