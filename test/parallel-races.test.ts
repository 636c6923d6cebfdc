/**
 * The lecture's "Race Condition", "Reduction" and "Bad Reduction" slides, with real threads on
 * real shared memory: a shared scalar races (last writer wins), a += reduction is exact, and a
 * one-element shared array updated at a fixed index loses updates.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { formatMessage, shutdownParallel } from '../dist/src/parallel/index.js';
import { FixtureNotebook } from './fixtures/parallel/notebook.js';

const n = 16 * 64 * 64;
const exactSum = (n * (n - 1)) / 2;

/**
 * Runs `f` until `enough` says so, for at most `seconds`. A race needs both threads on a core at
 * the same time; on a busy machine that may take many runs, so the tests wait for it.
 */
function repeatUntil<T>(f: () => T, enough: (seen: Set<T>) => boolean, seconds = 20): Set<T> {
  const seen = new Set<T>();
  const deadline = Date.now() + seconds * 1000;
  while (!enough(seen) && Date.now() < deadline) seen.add(f());
  return seen;
}

afterAll(() => shutdownParallel());

describe('race condition: val = i', () => {
  const nb = new FixtureNotebook();
  const { messages } = nb.run(
    [
      'function assign(n: number): number {',
      '  let val = -1;',
      '  for (const i of prange(n)) {',
      '    val = i;',
      '  }',
      '  return val;',
      '}',
    ].join('\n'),
    { parallel: { threads: 2 } },
  );
  const assign = nb.fn<(n: number) => number>('assign');

  it('warns like NumbaParallelSafetyWarning, naming the variable and line', () => {
    expect(messages.map(formatMessage)).toEqual([
      expect.stringMatching(/^line 4: ParallelSafetyWarning: variable 'val' used in the prange loop on line 3 may be written simultaneously by several threads/),
    ]);
    expect(messages[0]).toMatchObject({ severity: 'warning', code: 'shared-scalar-write', variable: 'val', line: 4 });
  });

  it('ends with whichever thread wrote last: not always n-1', () => {
    const seen = repeatUntil(() => assign(n), (s) => s.size >= 2);
    // Each thread's last write is the last index of its block: n/2-1 (thread 0) or n-1 (thread 1).
    expect([...seen].every((v) => v === n / 2 - 1 || v === n - 1)).toBe(true);
    expect(seen.size).toBe(2);
  });
});

describe('reduction: tot += i', () => {
  const nb = new FixtureNotebook();
  const { messages } = nb.run(
    [
      'function add(n: number): number {',
      '  let tot = 0;',
      '  for (const i of prange(n)) {',
      '    tot = tot + i;',
      '  }',
      '  return tot;',
      '}',
      'function addFrom(start: number, n: number): number {',
      '  let tot = start;',
      '  for (const i of prange(n)) tot += i;',
      '  return tot;',
      '}',
    ].join('\n'),
    { parallel: { threads: 2 } },
  );
  const add = nb.fn<(n: number) => number>('add');
  const addFrom = nb.fn<(start: number, n: number) => number>('addFrom');

  it('compiles without a warning', () => expect(messages).toEqual([]));

  it('is exactly right on every run', () => {
    for (let run = 0; run < 50; run++) expect(add(n)).toBe(exactSum);
  });

  it('counts a non-zero starting value once (OpenMP semantics, unlike Numba)', () => {
    for (let run = 0; run < 20; run++) expect(addFrom(1000, n)).toBe(1000 + exactSum);
  });
});

describe('bad reduction: tot[0] += i on a shared one-element array', () => {
  const nb = new FixtureNotebook();
  const { messages } = nb.run(
    [
      'function add(n: number): number {',
      '  const tot = shared(Float64Array, 1);',
      '  for (const i of prange(n)) {',
      '    tot[0] = tot[0] + i;',
      '  }',
      '  return tot[0];',
      '}',
    ].join('\n'),
    { parallel: { threads: 2 } },
  );
  const add = nb.fn<(n: number) => number>('add');

  it('warns (Numba stays silent), naming the array and line', () => {
    expect(messages.map(formatMessage)).toEqual([
      expect.stringMatching(/^line 4: ParallelSafetyWarning: tot\[0\] is written at an index that does not depend on the loop variable 'i'/),
    ]);
    expect(messages[0]).toMatchObject({ code: 'invariant-index-write', variable: 'tot' });
  });

  it('gives wrong sums that vary between runs', () => {
    const sums = repeatUntil(() => add(n), (s) => [...s].filter((x) => x !== exactSum).length >= 2);
    expect(sums.size).toBeGreaterThan(1);
    expect([...sums].some((s) => s !== exactSum)).toBe(true);
  });
});
