/**
 * Amdahl's law fitted to measured speed-ups: 1/S(n) = f + (1 - f)/n, least squares in f
 * (linear: 1/S - 1/n = f (1 - 1/n)). Points at n = 1 carry no information about f.
 */
export interface ScalingPoint {
  readonly threads: number;
  /** Speed-up over one thread. */
  readonly speedup: number;
}

/** The serial fraction that best explains the points, in [0, 1]; 0 when no point has n > 1. */
export function fitSerialFraction(points: readonly ScalingPoint[]): number {
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    if (!(p.threads > 1) || !(p.speedup > 0)) continue;
    const x = 1 - 1 / p.threads;
    const y = 1 / p.speedup - 1 / p.threads;
    sxy += x * y;
    sxx += x * x;
  }
  return sxx > 0 ? Math.min(1, Math.max(0, sxy / sxx)) : 0;
}

export function amdahlSpeedup(serialFraction: number, threads: number): number {
  return 1 / (serialFraction + (1 - serialFraction) / threads);
}
