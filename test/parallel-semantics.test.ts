/**
 * What a %%parallel body sees at run time: reductions of every kind, shared scalars, captured
 * values of every kind, functions from earlier cells shipped to the threads, arrays moved to
 * shared memory, nested loops, schedules, and errors that name the thread and the iteration.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { prange, shutdownParallel } from '../dist/src/parallel/index.js';
import type { RemoteError } from '../dist/src/util/remote-error.js';
import { FixtureNotebook } from './fixtures/parallel/notebook.js';

afterAll(() => shutdownParallel());
afterEach(() => vi.restoreAllMocks());

const two = { parallel: { threads: 2 } } as const;

describe('reductions and shared scalars', () => {
  const nb = new FixtureNotebook();
  nb.run(
    [
      'function kinds(n: number) {',
      '  let sum = 0.5, prod = 2, hi = -1, lo = 1e9, count = 0n, text = "", flag = false;',
      '  for (const i of prange(n)) {',
      '    sum -= i;',
      '    prod *= 1 + 1 / (i + 1);',
      '    hi = Math.max(hi, (i * 7919) % n);',
      '    lo = Math.min((i * 7919) % n + 3, lo);',
      '    count += BigInt(i);',
      '    text += String.fromCharCode(97 + (i % 26));',
      '    if (i === 17) flag = true;',
      '  }',
      '  return { sum, prod, hi, lo, count, text, flag };',
      '}',
    ].join('\n'),
    two,
  );

  it('combines each with its starting value once, in thread order', () => {
    const n = 1000;
    const got = nb.fn<(n: number) => Record<string, unknown>>('kinds')(n);
    expect(got['sum']).toBe(0.5 - (n * (n - 1)) / 2);
    expect(got['prod'] as number).toBeCloseTo(2 * (n + 1), 6);
    expect(got['hi']).toBe(n - 1);
    expect(got['lo']).toBe(3);
    expect(got['count']).toBe(BigInt((n * (n - 1)) / 2));
    // String concatenation keeps iteration order under the static schedule.
    expect(got['text']).toBe(Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
    // A boolean written by one iteration: shared, and still a boolean afterwards.
    expect(got['flag']).toBe(true);
  });
});

describe('captured values', () => {
  const nb = new FixtureNotebook();
  nb.run(
    [
      'const alpha = 3;',
      'const table = { scale: 2, name: "t" };',
      'const weights = [1, 2, 3];',
      'function helper(x: number): number { return x * alpha + inner(x); }',
      'function inner(x: number): number { return weights[x % 3]; }',
    ].join('\n'),
  );
  nb.run(
    [
      'function apply(n: number, label: string) {',
      '  const out = shared(Float64Array, n);',
      '  const names = shared(Int32Array, n);',
      '  for (const i of prange(n)) {',
      '    out[i] = helper(i) * table.scale + label.length;',
      '    names[i] = threadId();',
      '  }',
      '  return { out, names };',
      '}',
    ].join('\n'),
    two,
  );

  it('copies scalars, strings and objects, ships functions from earlier cells with what they use', () => {
    const { out, names } = nb.fn<(n: number, l: string) => { out: Float64Array; names: Int32Array }>('apply')(12, 'abc');
    expect(Array.from(out)).toEqual(Array.from({ length: 12 }, (_, i) => (i * 3 + [1, 2, 3][i % 3]!) * 2 + 3));
    expect(new Set(names)).toEqual(new Set([0, 1]));
  });

  it('sees a redefined helper in a later cell', () => {
    nb.run('function helper(x: number): number { return -x; }');
    const { out } = nb.fn<(n: number, l: string) => { out: Float64Array }>('apply')(6, '');
    expect(Array.from(out)).toEqual([0, -2, -4, -6, -8, -10]);
  });

  it('ships objects that structured clone cannot carry (functions inside) through src/ship', () => {
    nb.run('const ops = { twice: (x: number) => 2 * x };');
    nb.run('function useOps(n: number) { const out = shared(Float64Array, n); for (const i of prange(n)) out[i] = ops.twice(i); return out; }', two);
    expect(Array.from(nb.fn<(n: number) => Float64Array>('useOps')(4))).toEqual([0, 2, 4, 6]);
  });

  it('does not let a class instance lose its methods on the way: src/ship says why', () => {
    nb.run('class Vec { constructor(public x: number) {} twice(): number { return 2 * this.x; } }\nconst v = new Vec(3);');
    expect(() => nb.run('let viaVec = 0; for (const i of prange(4)) viaVec += v.twice();', two)).toThrow(/Cannot send 'v'/);
  });

  it('copies a non-shared array in and out on every run, with a note', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    nb.run('const squares = new Float64Array(1000);');
    nb.run('for (const i of prange(squares.length)) squares[i] = i * i;', two);
    nb.run('for (const i of prange(squares.length)) squares[i] += 1;', two);
    expect((nb.exports['squares'] as Float64Array)[999]).toBe(999 * 999 + 1);
    expect((nb.exports['squares'] as Float64Array).buffer).toBeInstanceOf(ArrayBuffer);
    expect(warn.mock.calls.flat().join('\n')).toMatch(
      /note: 'squares' is not in shared memory, so the prange loop on line 1 copies it in and out on every run \(7\.8 KiB each way\); the loop's writes reach 'squares' as usual\. Allocate it with shared\(Float64Array, n\) or shared\.from\(squares\)/,
    );
  });

  it('refuses at run time to write a plain JS array from an earlier cell', () => {
    nb.run('const plain = [0, 0, 0, 0];');
    expect(() => nb.run('for (const i of prange(4)) plain[i] = i;', two)).toThrow(
      "'plain' is a plain JS array, which the prange loop on line 1 writes: every thread would write its own copy",
    );
  });
});

describe('nesting', () => {
  const nb = new FixtureNotebook();
  nb.run(
    [
      'function rowSum(row: number, n: number): number {',
      '  let s = 0;',
      '  for (const j of prange(n)) s += row * n + j;',
      '  return s;',
      '}',
    ].join('\n'),
    two,
  );
  nb.run(
    [
      'function total(n: number): number {',
      '  let tot = 0;',
      '  for (const i of prange(n)) tot += rowSum(i, n);', // a parallel function called from a body
      '  return tot;',
      '}',
      'function grid(n: number): Float64Array {',
      '  const g = shared(Float64Array, n * n);',
      '  for (const i of prange(n)) {',
      '    for (const j of prange(n)) g[i * n + j] = i - j;', // nested prange, compiled serial
      '  }',
      '  return g;',
      '}',
    ].join('\n'),
    two,
  );

  it('runs loops nested dynamically (a parallel function called from a body) serially and correctly', () => {
    const n = 60;
    expect(nb.fn<(n: number) => number>('total')(n)).toBe(((n * n) * (n * n - 1)) / 2);
  });

  it('runs a nested prange serially inside the outer threads', () => {
    const g = nb.fn<(n: number) => Float64Array>('grid')(20);
    expect(g[3 * 20 + 5]).toBe(-2);
    expect(g[19 * 20 + 0]).toBe(19);
  });
});

describe('schedules and ranges', () => {
  const nb = new FixtureNotebook();
  it.each([
    ['static', { kind: 'static', chunk: 0 }],
    ['static,7 (cyclic chunks)', { kind: 'static', chunk: 7 }],
    ['dynamic', { kind: 'dynamic', chunk: 0 }],
    ['dynamic,3', { kind: 'dynamic', chunk: 3 }],
  ] as const)('%s covers every iteration exactly once', (_, schedule) => {
    nb.run(
      [
        'function visits(n: number): Int32Array {',
        '  const seen = shared(Int32Array, n);',
        '  for (const i of prange(n)) Atomics.add(seen, i, 1);',
        '  return seen;',
        '}',
      ].join('\n'),
      { parallel: { threads: 3, schedule } },
    );
    const seen = nb.fn<(n: number) => Int32Array>('visits')(1001);
    expect(seen.every((x) => x === 1)).toBe(true);
  });

  it('follows range(start, stop, step), counting down too', () => {
    nb.run('let down = 0; for (const i of prange(10, -10, -3)) down += i;', two);
    expect(nb.exports['down']).toBe([...prange(10, -10, -3)].reduce((a, b) => a + b, 0));
    expect([...prange(10, -10, -3)]).toEqual([10, 7, 4, 1, -2, -5, -8]);
    expect(() => nb.run('for (const i of prange(0, 10, 0)) {}', two)).toThrow('prange() step must not be zero');
  });
});

describe('errors in a body', () => {
  const nb = new FixtureNotebook();
  nb.run(
    [
      'function failAt(bad: number, n: number): number {',
      '  let tot = 0;',
      '  for (const i of prange(n)) {',
      '    if (i === bad) throw new RangeError(`bad value ${i}`);',
      '    tot += i;',
      '  }',
      '  return tot;',
      '}',
    ].join('\n'),
    two,
  );
  const failAt = nb.fn<(bad: number, n: number) => number>('failAt');

  it('on a worker: a RemoteError naming the thread and the iteration', () => {
    let err: unknown;
    try {
      failAt(77, 100);
    } catch (e) {
      err = e;
    }
    // (By name: the runtime's copy of the class is loaded by Node, not by the test runner.)
    expect((err as Error).name).toBe('RemoteError');
    expect((err as Error).message).toBe('thread 1 (iteration 77 of the prange loop on line 3): RangeError: bad value 77');
    expect((err as RemoteError).remoteName).toBe('RangeError');
  });

  it('on the main thread: the error itself', () => {
    expect(() => failAt(7, 100)).toThrow(new RangeError('bad value 7'));
  });

  it('leaves the team usable', () => {
    expect(failAt(-1, 100)).toBe(4950);
  });
});
