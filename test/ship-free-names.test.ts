import { describe, expect, it } from 'vitest';
import { analyzeSource } from '../dist/src/ship/free-names.js';

const free = (code: string): string[] => analyzeSource(code).references.map((r) => (r.viaExports ? `exports.${r.name}` : r.name));
const eager = (code: string): string[] => analyzeSource(code).references.filter((r) => r.eager).map((r) => r.name);

describe('free-name analysis', () => {
  it('does not count parameters, locals or arguments', () => {
    expect(free('function f(a, b = a) { var c = a + b; let d = c; return d + arguments.length; }')).toEqual([]);
  });

  it('counts globals and undeclared names in order of first use', () => {
    expect(free('(x) => Math.exp(x) * k + console.log(j, k)')).toEqual(['Math', 'k', 'console', 'j']);
  });

  it('hoists var and function declarations to the function scope', () => {
    expect(free('function f() { g(); if (true) { var v = 1; } return v; function g() {} }')).toEqual([]);
  });

  it('keeps let/const/class inside their block', () => {
    expect(free('function f() { { let a = 1; const b = 2; class C {} } return a + b + C; }')).toEqual(['a', 'b', 'C']);
  });

  it('scopes for-loop bindings and catch bindings', () => {
    expect(free('function f(xs) { for (const x of xs) {} for (let i = 0; i < 2; i++) {} try {} catch (e) { e; } return [x, i, e]; }')).toEqual([
      'x',
      'i',
      'e',
    ]);
  });

  it('binds a named function expression inside itself only', () => {
    expect(free('(function fact(n) { return n < 2 ? 1 : n * fact(n - 1); })')).toEqual([]);
    expect(free('(x) => [function inner() {}, inner]')).toEqual(['inner']);
  });

  it('handles destructuring: bound names are declarations, defaults and computed keys are references', () => {
    expect(free('function f({ a, b: [c, ...d], [key]: e = dflt }, ...rest) { return a + c + d + e + rest; }')).toEqual(['key', 'dflt']);
  });

  it('does not count labels or property names, but counts shorthand properties', () => {
    expect(free('function f() { outer: for (;;) { break outer; } return { a: 1, b, c() {}, [d]: 2 }.e; }')).toEqual(['b', 'd']);
  });

  it('reads exports.NAME as a reference to the notebook name NAME', () => {
    const refs = analyzeSource('function f(x) { return exports.scale(x) + exports["offset"] + (0, exports.g)(x); }').references;
    expect(refs.map((r) => [r.name, r.viaExports])).toEqual([
      ['scale', true],
      ['offset', true],
      ['g', true],
    ]);
    expect(analyzeSource('function f(k) { return exports[k]; }').dynamicExports).toBe(true);
  });

  it('marks class heritage, computed keys and static initializers as evaluated at definition time', () => {
    const code = 'class A extends exports.Base { static tag = TAG; [KEY]() { return later; } field = alsoLater; static { boot(); } }';
    expect(free(code)).toEqual(['exports.Base', 'TAG', 'KEY', 'later', 'alsoLater', 'boot']);
    expect(eager(code)).toEqual(['Base', 'TAG', 'KEY', 'boot']);
    expect(eager('(x) => helper(x)')).toEqual([]);
  });

  it('tolerates names only used under typeof', () => {
    const [ref] = analyzeSource('() => typeof maybe === "undefined"').references;
    expect(ref?.typeofOnly).toBe(true);
  });

  it('parses methods (object shorthand) and reads parameter names', () => {
    const a = analyzeSource('area(w, { h }, ...more) { return w * h * unit; }');
    expect(a.form).toBe('method');
    expect(a.references.map((r) => r.name)).toEqual(['unit']);
    expect(a.parameters).toEqual([
      { name: 'w', rest: false },
      { name: undefined, rest: false },
      { name: 'more', rest: true },
    ]);
  });
});
