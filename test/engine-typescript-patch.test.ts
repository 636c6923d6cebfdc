/**
 * The one change made to tslab's TypeScript as the kernel loads it (src/engine/typescript-patch.ts):
 * it applies to the pinned compiler (so a tslab upgrade that moves the text fails here, not
 * silently); a builder over the patched compiler still finds a cell's dependencies through
 * unchanged declaration files, and follows a declaration file that changed.
 */
import { readFileSync } from 'node:fs';
import type * as TS from 'typescript';
import { describe, expect, it } from 'vitest';
import { checkerTypescript } from '../src/engine/checker.js';
import { patchTypescriptSource } from '../src/engine/typescript-patch.js';

const ts = checkerTypescript();

/** An in-memory program over `files`; versions make SourceFile objects reusable across builds. */
function build(files: Map<string, string>, old?: TS.EmitAndSemanticDiagnosticsBuilderProgram): TS.EmitAndSemanticDiagnosticsBuilderProgram {
  const parsed = new Map<string, TS.SourceFile>();
  const oldProgram = old?.getProgram();
  const host: TS.CompilerHost = {
    getSourceFile: (name) => {
      const text = files.get(name);
      if (text === undefined) return undefined;
      const previous = oldProgram?.getSourceFile(name);
      if (previous && previous.text === text) return previous; // unchanged: the same object, as a watch host gives
      const file = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true);
      (file as { version?: string }).version = String(text.length) + text;
      parsed.set(name, file);
      return file;
    },
    writeFile: () => undefined,
    getDefaultLibFileName: () => '/lib.d.ts',
    useCaseSensitiveFileNames: () => true,
    getCanonicalFileName: (n) => n,
    getCurrentDirectory: () => '/',
    getNewLine: () => '\n',
    fileExists: (n) => files.has(n),
    readFile: (n) => files.get(n),
  };
  return ts.createEmitAndSemanticDiagnosticsBuilderProgram(['/cell.ts'], { module: ts.ModuleKind.CommonJS, noLib: true, types: [] }, host, old);
}

describe("tslab's TypeScript, as the kernel loads it", () => {
  it('is the compiler the patch was written for', () => {
    const file = require.resolve('@tslab/typescript-for-tslab', { paths: [require.resolve('tslab/package.json')] });
    const { source, patched } = patchTypescriptSource(readFileSync(file, 'utf8'));
    expect(patched).toBe(true);
    expect(source).toContain('tsp_referencedFilesOfDeclarationFile');
    expect(patchTypescriptSource('function other() {}')).toEqual({ source: 'function other() {}', patched: false });
  });

  it("still finds a cell's dependencies through declaration files, and follows one that changed", () => {
    const files = new Map([
      ['/cell.ts', `import { helper } from './helper';\nexport const y = helper(1);\n`],
      ['/helper.ts', `/// <reference path="./shapes.d.ts" />\nexport function helper(x: number): number { return x; }\n`],
      ['/shapes.d.ts', `declare interface Shape { sides: number }\n`],
      ['/extra.d.ts', `declare interface Extra { more: number }\n`],
    ]);
    const first = build(files);
    const deps = (b: TS.EmitAndSemanticDiagnosticsBuilderProgram) => [...b.getAllDependencies(b.getSourceFile('/cell.ts')!)].sort();
    expect(deps(first)).toEqual(['/cell.ts', '/helper.ts', '/shapes.d.ts']);

    // A new cell: the declaration file is the same object, its references come from memory.
    files.set('/cell.ts', `import { helper } from './helper';\nexport const z = helper(2);\n`);
    const second = build(files, first);
    expect(second.getSourceFile('/shapes.d.ts')).toBe(first.getSourceFile('/shapes.d.ts'));
    expect(deps(second)).toEqual(['/cell.ts', '/helper.ts', '/shapes.d.ts']);

    // The declaration file changes and now references another: a new object, computed again.
    files.set('/shapes.d.ts', `/// <reference path="./extra.d.ts" />\ndeclare interface Shape { sides: number }\n`);
    const third = build(files, second);
    expect(third.getSourceFile('/shapes.d.ts')).not.toBe(second.getSourceFile('/shapes.d.ts'));
    expect(deps(third)).toEqual(['/cell.ts', '/extra.d.ts', '/helper.ts', '/shapes.d.ts']);
  });
});
