/**
 * The lecture's "Numba Integrator": Simpson's rule for exp on [0, 1] with a prange reduction,
 * defined in a %%parallel cell and called from later cells (it stays parallel and returns
 * synchronously, so %timeit works on it).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { numThreads, shutdownParallel } from '../dist/src/parallel/index.js';
import { FixtureNotebook } from './fixtures/parallel/notebook.js';

afterAll(() => shutdownParallel());

const integrateExp = [
  'function integrateExp(x0: number, x1: number, dx: number): number {',
  '  let n = Math.floor((x1 - x0) / dx);',
  '  // n needs to be odd: (n & 1) ^ 1 is 1 when n is even',
  '  n = n + ((n & 1) ^ 1);',
  '  dx = (x1 - x0) / (n - 1);',
  '  let tot = 0.0;',
  '  for (const i of prange(1, n - 1)) {',
  '    // 2 + 2 * (i & 1) is 4 for odd i, 2 for even i',
  '    tot = tot + (2 + 2 * (i & 1)) * Math.exp(x0 + i * dx);',
  '  }',
  '  tot = tot + Math.exp(x0) + Math.exp(x1);',
  '  return (dx * tot) / 3;',
  '}',
].join('\n');

describe.each([1, 2, 4])('integrateExp at %i threads', (threads) => {
  const nb = new FixtureNotebook();
  const { messages } = nb.run(integrateExp, { parallel: { threads } });

  it('compiles without messages', () => expect(messages).toEqual([]));

  it('equals e - 1 within 1e-12, called from a later cell', () => {
    nb.run('const ans = integrateExp(0, 1, 1e-6);');
    expect(Math.abs((nb.exports['ans'] as number) - (Math.E - 1))).toBeLessThan(1e-12);
  });

  it('uses the requested number of threads', () => {
    nb.run(
      [
        'function teamSize(): number {',
        '  const seen = shared(Int32Array, 8);',
        '  for (const i of prange(0, 4000)) seen[threadId()] = numThreads();',
        '  return seen.filter((x) => x > 0).length;',
        '}',
      ].join('\n'),
      { parallel: { threads } },
    );
    expect(nb.fn<() => number>('teamSize')()).toBe(threads);
  });
});

describe('as in the lecture', () => {
  const nb = new FixtureNotebook();
  nb.run(integrateExp, { parallel: {} });

  it('runs on numThreads() threads by default and gives the same answer at every call', () => {
    expect(numThreads()).toBeGreaterThanOrEqual(1);
    const f = nb.fn<(a: number, b: number, dx: number) => number>('integrateExp');
    const first = f(0, 1, 1e-5);
    for (let k = 0; k < 20; k++) expect(f(0, 1, 1e-5)).toBe(first);
    expect(Math.abs(first - (Math.E - 1))).toBeLessThan(1e-12);
  });

  it('serves %timeit: many synchronous calls in one turn', () => {
    nb.run('let total = 0; for (let k = 0; k < 200; k++) total += integrateExp(0, 2, 1e-4);');
    expect(Math.abs((nb.exports['total'] as number) / 200 - (Math.exp(2) - 1))).toBeLessThan(1e-9);
  });

  it('works on a loop at the top level of a cell', () => {
    nb.run(
      [
        'const n = 100001, dx = 1 / (n - 1);',
        'let tot = Math.exp(0) + Math.exp(1);',
        'for (const i of prange(1, n - 1)) tot += (2 + 2 * (i & 1)) * Math.exp(i * dx);',
        'const simpson = (dx * tot) / 3;',
      ].join('\n'),
      { parallel: { threads: 2 } },
    );
    expect(Math.abs((nb.exports['simpson'] as number) - (Math.E - 1))).toBeLessThan(1e-12);
  });
});
