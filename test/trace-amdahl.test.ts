/**
 * The Amdahl fit behind %scaling on a synthetic timing model (no wall clock): times
 * T(n) = T1 (f + (1 - f)/n), perturbed by a fixed ±3% pattern, must give back f within 0.05;
 * and the thread-count lists %scaling accepts.
 */
import { describe, expect, it } from 'vitest';
import { parseThreadCounts } from '../dist/src/magics/scaling.js';
import { amdahlSpeedup, fitSerialFraction } from '../dist/src/trace/amdahl.js';
import { ScalingResult } from '../dist/src/trace/scaling.js';

/** Run times of a workload with serial fraction f, with deterministic noise. */
function synthetic(f: number, counts: readonly number[], t1 = 2.0): Map<number, number[]> {
  const noise = [1.03, 0.98, 1.01, 0.97, 1.02];
  return new Map(counts.map((n, i) => [n, [0, 1, 2].map((r) => t1 * (f + (1 - f) / n) * noise[(i + r) % noise.length]!)]));
}

describe('the Amdahl fit', () => {
  for (const f of [0, 0.05, 0.2, 0.5, 0.9]) {
    it(`recovers a serial fraction of ${f} from noisy synthetic times`, () => {
      const result = new ScalingResult(synthetic(f, [1, 2, 4, 8, 16]), undefined);
      expect(Math.abs(result.serialFraction - f)).toBeLessThan(0.05);
      expect(result.rows.map((r) => r.threads)).toEqual([1, 2, 4, 8, 16]);
      expect(result.rows[0]!.speedup).toBe(1);
      for (const r of result.rows) expect(r.efficiency).toBeCloseTo(r.speedup / r.threads, 12);
    });
  }

  it('is exact without noise, and clamps to [0, 1]', () => {
    const points = [2, 4, 8].map((n) => ({ threads: n, speedup: amdahlSpeedup(0.3, n) }));
    expect(fitSerialFraction(points)).toBeCloseTo(0.3, 12);
    expect(fitSerialFraction([{ threads: 2, speedup: 2.5 }])).toBe(0); // superlinear
    expect(fitSerialFraction([{ threads: 2, speedup: 0.5 }])).toBe(1); // slower in parallel
    expect(fitSerialFraction([{ threads: 1, speedup: 1 }])).toBe(0);
  });

  it('draws measured, ideal, Amdahl and the ceiling', () => {
    const result = new ScalingResult(synthetic(0.2, [1, 2, 4]), new Map([[1, 1], [2, 1.9], [4, 3.5]]));
    const names = result.figure().data.map((t) => String(t.name));
    expect(names).toEqual(['ideal (n×)', `Amdahl, f = ${result.serialFraction.toFixed(3)}`, 'this machine (bare threads)', 'measured']);
    expect(result.tableRows().map((r) => r['machine ceiling'])).toEqual(['1.00x', '1.90x', '3.50x']);
    expect(() => new ScalingResult(new Map([[2, [1]]]), undefined)).toThrow(/needs a run on 1 thread/);
  });
});

describe('%scaling -n', () => {
  it('parses lists, always with the 1-thread baseline, and defaults to powers of two up to the cores', () => {
    expect(parseThreadCounts('4,2')).toEqual([1, 2, 4]);
    expect(parseThreadCounts(' 1, 3 ,3')).toEqual([1, 3]);
    expect(parseThreadCounts(undefined, 2)).toEqual([1, 2]);
    expect(parseThreadCounts(undefined, 6)).toEqual([1, 2, 4, 6]);
    expect(parseThreadCounts(undefined, 1)).toEqual([1]);
    for (const bad of ['0,2', 'two', '1,,2', '300']) expect(() => parseThreadCounts(bad)).toThrow(/is not a list of thread counts; use numbers from 1 to 256/);
  });
});
