/** The lecture's code, as notebook cells: the %%parallel versions and their serial twins. */

/** "Numba Integrator": Simpson's rule for exp with a prange reduction. */
export const integrateExpCell = `
export function integrateExp(x0: number, x1: number, dx: number): number {
  let n = Math.floor((x1 - x0) / dx);
  n = n + ((n & 1) ^ 1);
  dx = (x1 - x0) / (n - 1);
  let tot = 0.0;
  for (const i of prange(1, n - 1)) {
    tot = tot + (2 + 2 * (i & 1)) * Math.exp(x0 + i * dx);
  }
  tot = tot + Math.exp(x0) + Math.exp(x1);
  return (dx * tot) / 3;
}`;

/** The same, as a plain serial TypeScript loop (the baseline). */
export const integrateExpSerialCell = integrateExpCell
  .replace('integrateExp(', 'integrateExpSerial(')
  .replace('for (const i of prange(1, n - 1))', 'for (let i = 1; i < n - 1; i++)');

/** The shared-memory diffusion: a prange over the interior, buffers swapped after each step. */
export const diffusionCell = `
export function initialCondition(Nx: number): Float64Array {
  const C = shared(Float64Array, Nx);
  for (let i = 0; i < Nx; i++) {
    const x = i / (Nx - 1);
    C[i] = (1 / (0.25 * Math.sqrt(2 * Math.PI))) * Math.exp(-0.5 * ((x - 0.5) / 0.25) ** 2);
  }
  return C;
}
export function diffusion(Nt: number, C: Float64Array): Float64Array {
  const alpha = 0.49;
  let C_ = shared(Float64Array, C.length);
  for (let j = 0; j < Nt; j++) {
    for (const i of prange(1, C.length - 1)) {
      C_[i] = C[i] + alpha * (C[i + 1] - 2 * C[i] + C[i - 1]);
    }
    [C, C_] = [C_, C];
  }
  return C;
}`;

export const diffusionSerialCell = diffusionCell
  .replace('diffusion(', 'diffusionSerial(')
  .replace('initialCondition(', 'initialConditionSerial(')
  .replace('for (const i of prange(1, C.length - 1))', 'for (let i = 1; i < C.length - 1; i++)');

/** The cost of starting and finishing a loop: an empty prange. */
export const emptyCell = `
export function empty(n: number): void {
  for (const i of prange(n)) {
  }
}`;
