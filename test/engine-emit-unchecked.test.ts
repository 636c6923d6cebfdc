/**
 * The cell emit without the emit resolver's type check (src/engine/emit.ts): TypeScript 5.0
 * checks the whole file before it emits, and most cells emit the same without that check, for a
 * third of the emit's time. Every cell of a corpus emits exactly as with the check (JavaScript,
 * source map, and what the engine reads from it); code whose emit needs what only the check
 * records is detected and checked, and the test shows that skipping the check there would
 * change the output.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

type Emit = typeof import('../src/engine/emit.js');
const { emitCellText } = require(resolve(__dirname, '..', 'dist', 'src', 'engine', 'emit.js')) as Emit;

const previous = new Set(['a', 'b', 'f', 'obj', 'list', 'Shape']);
const emit = (cell: string, typeCheck?: boolean) =>
  emitCellText(cell, { fileName: 'In[1]', previous, captureLastExpression: true, typeCheck });

/** Cells the default path emits without the check. */
const unchecked = [
  '1 + 1',
  'const v = a + 1;\nv',
  'let x = 1;\nx += b;\nx++;\n[x, a]',
  'const { p = a, q: [r, ...rest] } = obj;\n({ p, r, rest, a })',
  'function g(n: number): number {\n  return n <= 1 ? 1 : n * g(n - 1);\n}\ng(5)',
  'const h = async (n: number) => { await null; return n + a; };\nawait h(1)',
  'for (let i = 0; i < 3; i++) list.push(() => i);\nlist.map((fn) => fn())',
  'outer: for (const x of [1, 2]) { for (const y of [3, 4]) { if (y > x + 1) continue outer; } }',
  'enum Color { Red, Green = 4, Blue }\nColor.Blue',
  'const enum Size { S = 1, M = S * 2 }\nSize.M',
  'namespace NS { export const k = a; export function twice() { return k * 2; } }\nNS.twice()',
  'declare const ambient: number;\ntype Pair<T> = [T, T];\ninterface I { n: number }\nconst pair: Pair<number> = [1, 2];\npair',
  'const gen = function* () { yield a; yield* [b]; };\n[...gen()]',
  'async function* stream() { yield 1; }\nfor await (const s of stream()) console.log(s);',
  'const o2 = { a, b, [`k${a}`]: 1, get g() { return b; }, m() { return this.g; } };\no2?.m?.() ?? 0',
  'let z: number | undefined;\nz ??= a;\nz ||= b;\nz &&= 3;\nz',
  'const big = 10n ** 20n;\nconst re = /a+/gu;\n[big, re.test("aa"), 1_000]',
  'const t = <T,>(x: T) => x;\nconst n = t<number>(a);\nn satisfies number',
  'function over(x: string): string;\nfunction over(x: number): number;\nfunction over(x: any) { return x; }\nover(a)',
  'var hoisted = 1;\nfunction arguments2() { return arguments.length; }\narguments2(a, b)',
  'f(a)\n\n\n// a comment\nb',
  'try { throw new Error("x"); } catch { } finally { a; }',
  'export const exported = 1;\nexport default exported;',
  'const dyn = await import("node:path");\ndyn.sep',
  'class Self { static make() { return new Self(); } }\nSelf.make()',
  'class Sq extends Shape { #s = 2; static { this.n = 1; } constructor(public side: number, private hidden = a) { super(); } override area() { return this.side ** 2; } }\nnew Sq(3).area()',
  'const Expr = class { static self = Expr; static { this.t = Expr; } };\nExpr.self',
  'class Acc { accessor n = 1; static accessor m = 2; }\nnew Acc().n',
  'const made = [];\nfor (const k of ["x", "y"]) made.push(class { [k] = 1; static s = k; accessor q = k; #p = 1; });\nmade.length',
  'abstract class Base<T> { abstract get(): T; declare tag: string; }\nclass Impl extends Base<number> { get() { return a; } }\nnew Impl().get()',
  'const jsx = 1;\nswitch (jsx) { case 1: { const inner = a; break; } default: }',
];

/** Code that the default path checks, with why. */
const checked: [string, string][] = [
  ['an import alias of a namespace member (kept only when the check saw it used)', 'namespace M { export const v = 1; }\nimport V = M.v;\nV'],
  ['a decorated class', 'function sealed(c: any) { return c; }\n@sealed class D { static d = D; m() { return D; } }\nD.d === D'],
];

describe('emitting a cell without the type check', () => {
  it.each(unchecked)('gives the same output as with it: %s', (cell) => {
    expect(emit(cell, false)).toEqual(emit(cell, true));
    expect(emit(cell)).toEqual(emit(cell, true));
  });

  it.each(checked)('is not done for %s', (_why, cell) => {
    expect(emit(cell)).toEqual(emit(cell, true));
  });

  it('would drop an import alias the cell uses, and a decorated class\'s alias: why such code is checked', () => {
    const [[, alias], [, decorated]] = checked;
    expect(emit(alias, true).js).toMatch(/V = M\.v/);
    expect(emit(alias, false).js).not.toMatch(/V = M\.v/);
    expect(emit(decorated, true).js).toMatch(/static d = D_1;/);
    expect(emit(decorated, false).js).not.toMatch(/D_1/);
  });
});
