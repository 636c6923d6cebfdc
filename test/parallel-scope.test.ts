/**
 * One scope analysis: shipping and the engine (analyzeScopes in src/util/scope.ts) and the
 * %%parallel compiler (isValueReference / isAssignmentTarget of its cell program) classify every
 * identifier the same way. The cases are those where the two used to disagree: the left side of
 * a qualified name, names inside types and interfaces, `implements`, instantiation expressions,
 * `import x = require(…)`, and writes through parentheses and type assertions.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { isAssignmentTarget, isValueReference } from '../dist/src/parallel/compiler/program.js';
import { analyzeScopes } from '../dist/src/util/scope.js';

interface Classified {
  readonly name: string;
  readonly line: number;
  readonly written: boolean;
}

function parse(code: string): ts.SourceFile {
  return ts.createSourceFile('/case.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

function lineOf(file: ts.SourceFile, node: ts.Node): number {
  return file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
}

/** What shipping and the engine see: the references analyzeScopes reports. */
function byScopeAnalysis(code: string): Classified[] {
  const file = parse(code);
  return analyzeScopes(file).references.map((r) => ({ name: r.name, line: lineOf(file, r.node), written: r.written }));
}

/** What the %%parallel compiler sees: every identifier it takes for a value, and whether it is written. */
function byParallelCompiler(code: string): Classified[] {
  const file = parse(code);
  const found: Classified[] = [];
  const walk = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && isValueReference(node)) found.push({ name: node.text, line: lineOf(file, node), written: isAssignmentTarget(node) });
    ts.forEachChild(node, walk);
  };
  walk(file);
  return found;
}

const kCases: readonly { readonly what: string; readonly code: string; readonly references: readonly string[] }[] = [
  { what: 'the left side of a qualified name in `import x = N.M`', code: 'import x = N.M;', references: ['N'] },
  { what: 'a qualified name and typeof in types', code: 'let v: N.T = 0;\ntype Q = typeof n;\nlet w: typeof m.k = v;', references: ['v'] },
  {
    what: 'member names of an interface declared in a function',
    code: 'function f() {\n  interface P { x: number; m(): void }\n  return x;\n}',
    references: ['x'],
  },
  { what: 'class heritage: extends is a value, implements and type arguments are not', code: 'class C extends B<T> implements I {}', references: ['B'] },
  { what: 'an instantiation expression', code: 'const g = f<number>;', references: ['f'] },
  { what: 'the name bound by import = require', code: "import r = require('m');\nr.run();", references: ['r'] },
  { what: 'a declared (ambient) name', code: 'declare const d: number;\nconsole.log(d);', references: ['console', 'd'] },
];

describe('shipping and %%parallel classify names the same way', () => {
  for (const c of kCases) {
    it(c.what, () => {
      const shipping = byScopeAnalysis(c.code);
      expect(shipping.map((r) => r.name)).toEqual(c.references);
      expect(byParallelCompiler(c.code)).toEqual(shipping);
    });
  }

  it('writes, also through parentheses, type assertions and destructuring', () => {
    const code = [
      'let x = 0;',
      '(x as number) = 1;',
      '(x)++;',
      'x! += 2;',
      '[x] = [3];',
      '({ x } = { x: 4 });',
      'for (x of [5]) {}',
      'console.log(x, -x, typeof x);',
    ].join('\n');
    const shipping = byScopeAnalysis(code);
    expect(byParallelCompiler(code)).toEqual(shipping);
    const xs = shipping.filter((r) => r.name === 'x');
    expect(xs.filter((r) => r.written).map((r) => r.line)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(xs.filter((r) => !r.written).map((r) => r.line)).toEqual([8, 8, 8]);
  });
});
