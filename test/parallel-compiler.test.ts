/**
 * The %%parallel compiler on its own: what it decides for each name (private, copied,
 * reduction, shared), the messages it prints, the lines it keeps, and compiled cells that still
 * type-check.
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { compileParallelCell, formatMessage, type CompileResult } from '../dist/src/parallel/index.js';

const compile = (lines: readonly string[], options: Parameters<typeof compileParallelCell>[1] = {}): CompileResult =>
  compileParallelCell(lines.join('\n'), options);
const texts = (r: CompileResult) => r.messages.map(formatMessage);

describe('data sharing', () => {
  it('reads outer scalars as copies, keeps body declarations private', () => {
    const r = compile([
      'function f(x0: number, dx: number, n: number) {',
      '  const out = shared(Float64Array, n);',
      '  for (const i of prange(n)) {',
      '    const x = x0 + i * dx;',
      '    let y = x * x;',
      '    out[i] = y;',
      '  }',
      '  return out;',
      '}',
    ]);
    expect(r.messages).toEqual([]);
    expect(r.loops[0]!.spec).toMatchObject({ names: ['x0', 'dx', 'out'], reductions: [], shared: [], writes: [2], line: 3 });
  });

  it.each([
    ['tot += e', 'tot += i * 2;', '+'],
    ['tot -= e', 'tot -= i;', '+'],
    ['tot *= e', 'tot *= 1 + i;', '*'],
    ['tot /= e', 'tot /= 1 + i;', '*'],
    ['tot = tot + e', 'tot = tot + i;', '+'],
    ['tot = tot + a - b (a chain)', 'tot = tot + i - 1;', '+'],
    ['tot = e + tot', 'tot = 2 * i + tot;', '+'],
    ['tot = tot * e', 'tot = tot * (1 + i);', '*'],
    ['tot = Math.max(tot, e)', 'tot = Math.max(tot, i);', 'max'],
    ['tot = Math.min(e, tot)', 'tot = Math.min(i, tot);', 'min'],
    ['tot++', 'tot++;', '+'],
  ])('%s is a reduction', (_, statement, op) => {
    const r = compile(['let tot = 1;', `for (const i of prange(10)) { ${statement} }`]);
    expect(r.messages).toEqual([]);
    expect(r.loops[0]!.spec.reductions).toEqual([{ name: 'tot', op }]);
  });

  it.each([
    ['val = i', 'val = i;', 'shared-scalar-write'],
    ['val = e - val (not commutative)', 'val = i - val;', 'shared-scalar-write'],
    ['val += val', 'val += val;', 'shared-scalar-write'],
    ['val %= e', 'val %= i + 1;', 'shared-scalar-write'],
    ['a reduction that is also read', 'val += i; const y = val * 2;', 'reduction-also-read'],
    ['+= and *= on one variable', 'val += i; val *= 2;', 'mixed-reduction'],
    ['[val] = [i] (destructuring)', '[val] = [i];', 'shared-scalar-write'],
  ])('%s is shared and warned about', (_, statement, code) => {
    const r = compile(['let val = 0;', `for (const i of prange(10)) { ${statement} }`]);
    expect(r.messages.map((m) => [m.code, m.variable, m.line])).toEqual([[code, 'val', 2]]);
    expect(r.loops[0]!.spec.shared).toEqual(['val']);
    expect(r.code).toContain('__tspSh[0]');
  });

  it('gives the lines of the write and the loop, and the fix', () => {
    const r = compile(['let val = -1;', 'for (const i of prange(n)) {', '  val = i;', '}'], { lineOffset: 1 });
    expect(texts(r)).toEqual([
      "line 4: ParallelSafetyWarning: variable 'val' used in the prange loop on line 3 may be written simultaneously by " +
        'several threads: they share it and the last writer wins, so the result is non-deterministic. Declare it inside the ' +
        'loop if each iteration needs its own, or update it only with +=, -=, *=, /=, Math.max or Math.min to make it a reduction.',
    ]);
  });

  it('warns about array writes at an index that does not depend on the loop variable', () => {
    const r = compile([
      'const tot = shared(Float64Array, 4);',
      'for (const i of prange(n)) {',
      '  tot[0] += i;', // races
      '  const k = i % 4;',
      '  tot[k] = 1;', // depends on i through k
      '  tot[threadId()] += i;', // one element per thread: no race
      '}',
    ]);
    expect(texts(r)).toEqual([
      "line 3: ParallelSafetyWarning: tot[0] is written at an index that does not depend on the loop variable 'i': every " +
        'thread updates the same element of the shared array and updates are lost (Numba stays silent here). Declare ' +
        "the array a reduction, prange(…).reduction('+', tot) (each thread updates its own copy, added into tot after " +
        "the loop, like OpenMP's reduction(+: tot[:n])), accumulate into a scalar reduction (let s = 0; … s += …; " +
        'tot[0] = s after the loop), or index by threadId().',
    ]);
  });

  it('lets names shadowed in the body stay private', () => {
    const r = compile(['let x = 0;', 'for (const i of prange(10)) {', '  const f = (x: number) => x + 1;', '  { let x = f(i); x += 1; }', '}']);
    expect(r.messages).toEqual([]);
    expect(r.loops[0]!.spec).toMatchObject({ names: [], reductions: [], shared: [] });
  });

  it('treats names of earlier cells as captured, globals as globals', () => {
    const r = compile(['for (const i of prange(n)) out[i] = alpha * Math.sqrt(i) + helper(i);'], {
      isNotebookName: (name) => ['n', 'out', 'alpha', 'helper'].includes(name),
    });
    expect(r.loops[0]!.spec.names).toEqual(['out', 'alpha', 'helper']);
  });
});

describe('compile errors, naming the line and the alternative', () => {
  it.each([
    ['await', 'async function f() { for (const i of prange(4)) { await g(i); } }', 'await-in-body', /Await the values you need before the loop/],
    ['yield', 'function* f() { for (const i of prange(4)) { yield i; } }', 'yield-in-body', /yield them after the loop/],
    ['return', 'function f() { for (const i of prange(4)) { if (i) return i; } }', 'return-in-body', /return after the loop/],
    ['break', 'for (const i of prange(4)) { if (i > 2) break; }', 'break-out-of-body', /cannot stop early/],
    ['this', 'class A { x = 1; f() { for (const i of prange(4)) { g(this.x); } } }', 'this-in-body', /Copy the fields/],
    ['arguments', 'function f() { for (const i of prange(4)) { g(arguments[0]); } }', 'arguments-in-body', /local constants/],
    ['a plain JS array written', 'const xs: number[] = [];\nfor (const i of prange(4)) { xs[i] = i; }', 'plain-array-write', /shared\(Float64Array, n\)/],
    ['a plain JS array pushed to', 'const xs = [];\nfor (const i of prange(4)) { xs.push(i); }', 'plain-array-write', /declared on line 1/],
    ['a property of an outer object written', 'const o = { n: 0 };\nfor (const i of prange(4)) { o.n = i; }', 'property-write', /o\.n/],
    ['the loop variable assigned', 'for (let i of prange(4)) { i = 2; }', 'index-assigned', /prange\(start, stop, step\)/],
    ['a destructured loop variable', 'for (const [a, b] of prange(4)) { g(a); }', 'index-pattern', /single loop variable/],
    ['prange without arguments', 'for (const i of prange()) { g(i); }', 'prange-arguments', /got 0 arguments/],
    ['for await', 'async function f() { for await (const i of prange(4)) { g(i); } }', 'for-await', /for await/],
  ])('%s', (_, source, code, fix) => {
    const r = compileParallelCell(source);
    expect(r.hasErrors).toBe(true);
    const error = r.messages.find((m) => m.severity === 'error')!;
    expect(error.code).toBe(code);
    expect(formatMessage(error)).toMatch(/^line \d+: ParallelCompileError: /);
    expect(error.text).toMatch(fix);
    expect(r.code).toBe(source); // never run
  });

  it('allows what stays inside the body: continue, inner loops with break, functions with return', () => {
    const r = compile([
      'let tot = 0;',
      'outer: for (const i of prange(10)) {',
      '  if (i % 2) continue;',
      '  for (let j = 0; j < 10; j++) { if (j > i) break; if (j === 3) continue outer; }',
      '  const sq = (x: number) => { return x * x; };',
      '  switch (i) { case 1: break; }',
      '  tot += sq(i);',
      '}',
    ]);
    expect(r.messages).toEqual([]);
  });

  it('runs a nested prange serially, with a warning', () => {
    const r = compile([
      'const grid = shared(Float64Array, 100);',
      'for (const i of prange(10)) {',
      '  for (const j of prange(10)) {',
      '    grid[i * 10 + j] = i + j;',
      '  }',
      '}',
    ]);
    expect(texts(r)).toEqual([
      'line 3: NestedPrangeWarning: this prange is nested in the prange loop on line 2 and runs serially inside it (as in ' +
        'Numba): only the outermost prange is split across threads. Use a plain for loop to say so, or parallelise the ' +
        'inner loop instead if it is the longer one.',
    ]);
    expect(r.code.split('\n')[2]).toMatch(/^ {2}for \(let \[__tspA0, __tspN0, __tspS0\] = __tspCtx\.range\(10\)/);
  });

  it('notes a cell with no prange loop (Numba: NumbaPerformanceWarning)', () => {
    const r = compileParallelCell('\nconst x = 1;\nfor (let i = 0; i < 3; i++) {}', { lineOffset: 1 });
    expect(r.code).toBe('\nconst x = 1;\nfor (let i = 0; i < 3; i++) {}');
    expect(texts(r)).toEqual([
      'line 3: ParallelPerformanceWarning: %%parallel found no loop of the form for (const i of prange(…)) in this cell, so ' +
        'nothing in it runs in parallel (Numba says the same when parallel=True finds nothing to transform). Write the loops ' +
        'to split across threads with prange.',
    ]);
    expect(r.hasErrors).toBe(false);
  });

  it('leaves cells with syntax errors to the engine', () => {
    const source = 'for (const i of prange(10)) { tot += ; }';
    expect(compileParallelCell(source)).toEqual({ code: source, messages: [], loops: [], hasErrors: false });
  });
});

describe('compiled code', () => {
  const lecture = [
    'function integrateExp(x0: number, x1: number, dx: number): number {',
    '  let n = Math.floor((x1 - x0) / dx);',
    '  n = n + ((n & 1) ^ 1);',
    '  dx = (x1 - x0) / (n - 1);',
    '  let tot = 0.0;',
    '  for (const i of prange(1, n - 1)) {',
    '    tot = tot + (2 + 2 * (i & 1)) * Math.exp(x0 + i * dx);',
    '  }',
    '  tot = tot + Math.exp(x0) + Math.exp(x1);',
    '  return (dx * tot) / 3;',
    '}',
    'function diffusion(Nt: number, C: Float64Array): Float64Array {',
    '  const alpha = 0.49;',
    '  let C_: Float64Array = new Float64Array(C.length);',
    '  for (let j = 0; j < Nt; j++) {',
    '    for (const i of prange(1, C.length - 1))',
    '      C_[i] = C[i] + alpha * (C[i + 1] - 2 * C[i] + C[i - 1]);',
    '    [C, C_] = [C_, C];',
    '  }',
    '  return C;',
    '}',
    'let val = -1, flag = false;',
    'for (const i of prange(',
    '    0,',
    '    10)) { val = i; flag = !flag; const o = { val }; console.log(o, numThreads(), threadId()); }',
    'const best = { v: -Infinity };',
    'let m = best.v;',
    'for (const i of prange(100)) m = Math.max(m, Math.sin(i));',
    'let label: string | undefined = "abc", count: number | undefined = 0, text: string | undefined = "x";',
    'for (const i of prange(3)) { count += label.length; console.log(label, text[0]); }',
    'const n1: number = count + label.length + text.length;',
  ];

  it('keeps every line where it was', () => {
    const r = compile(lecture);
    expect(r.code.split('\n').length).toBe(lecture.length);
    const lines = r.code.split('\n');
    expect(lines[6]).toBe(lecture[6]); // the body line is untouched
    expect(lines[16]).toMatch(/^C_\[i\] = C\[i\] \+ alpha \* \(C\[i \+ 1\] - 2 \* C\[i\] \+ C\[i - 1\]\); \} catch \(__tspE\) \{ __tspCtx\.at = __tspK; throw __tspE; \} \}/);
    expect(lines[8]).toBe(lecture[8]);
  });

  it('still type-checks (strict), with the magic’s bindings declared', () => {
    const r = compile(lecture);
    const declarations = [
      'declare function prange(stop: number): Iterable<number>;',
      'declare function prange(start: number, stop: number, step?: number): Iterable<number>;',
      'declare function numThreads(): number;',
      'declare function threadId(): number;',
      'declare const console: { log(...a: unknown[]): void };',
    ].join('\n');
    const diagnostics = typeCheck({ '/cell.ts': r.code, '/decl.d.ts': declarations });
    expect(diagnostics).toEqual([]);
    // The original type-checks too, so the compiler introduced nothing.
    expect(typeCheck({ '/cell.ts': lecture.join('\n'), '/decl.d.ts': declarations })).toEqual([]);
  });

  it('gives the same loop the same id, and a changed loop a new one', () => {
    const a = compile(['for (const i of prange(10)) g(i);']).loops[0]!.spec.id;
    const b = compile(['for (const i of prange(10)) g(i);']).loops[0]!.spec.id;
    const c = compile(['for (const i of prange(10)) g(i + 1);']).loops[0]!.spec.id;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it('bakes -n and --schedule into the loop', () => {
    const r = compile(['for (const i of prange(10)) g(i);'], { threads: 3, schedule: { kind: 'dynamic', chunk: 8 } });
    expect(r.loops[0]!.spec).toMatchObject({ threads: 3, schedule: 'dynamic', chunk: 8 });
  });
});

/** Type-checks in-memory files against the ES2022 library, strict. */
function typeCheck(files: Record<string, string>): string[] {
  const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], types: [] };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version) =>
    files[name] !== undefined ? ts.createSourceFile(name, files[name]!, version) : read(name, version);
  host.fileExists = ((exists) => (name: string) => files[name] !== undefined || exists(name))(host.fileExists.bind(host));
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName}:${d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 : 0}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}
