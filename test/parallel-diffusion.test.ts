/**
 * The shared-memory diffusion of the parallel-processing lecture: a prange over the interior of
 * a 1D grid, with the two buffers swapped after every step (alpha = 0.49). Threads write
 * disjoint elements of shared arrays, so the result equals the serial one bit for bit.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { shutdownParallel } from '../dist/src/parallel/index.js';
import { FixtureNotebook } from './fixtures/parallel/notebook.js';

afterAll(() => shutdownParallel());
afterEach(() => vi.restoreAllMocks());

const helpers = [
  'function linspace(a: number, b: number, n: number): Float64Array {',
  '  const out = new Float64Array(n);',
  '  for (let i = 0; i < n; i++) out[i] = a + ((b - a) * i) / (n - 1);',
  '  return out;',
  '}',
  'function gaussian(x: Float64Array): Float64Array {',
  '  return x.map((v) => (1 / (0.25 * Math.sqrt(2 * Math.PI))) * Math.exp(-0.5 * ((v - 0.5) / 0.25) ** 2));',
  '}',
].join('\n');

/** The lecture's function; `loop` is `prange(1, C.length - 1)` or its serial twin. */
const diffusion = (name: string, loop: string, alloc: (what: string) => string) =>
  [
    `function ${name}(Nt: number, Nx: number): Float64Array {`,
    '  const alpha = 0.49;',
    '  const x = linspace(0, 1, Nx);',
    '  // Initial condition',
    `  let C = ${alloc('gaussian(x)')};`,
    '  // Temporary work array',
    `  let C_ = ${alloc('new Float64Array(Nx)')};`,
    '  // Loop over time (normal for loop)',
    '  for (let j = 0; j < Nt; j++) {',
    '    // Loop over array elements (space, parallel for loop)',
    `    for (${loop}) {`,
    '      C_[i] = C[i] + alpha * (C[i + 1] - 2 * C[i] + C[i - 1]);',
    '    }',
    '    [C, C_] = [C_, C];',
    '  }',
    '  return C;',
    '}',
  ].join('\n');

describe.each([1, 2, 3])('1D diffusion at %i threads', (threads) => {
  const nb = new FixtureNotebook();
  nb.run(helpers);
  nb.run(diffusion('serial', 'let i = 1; i < C.length - 1; i++', (e) => e));
  const parallelCell = nb.run(diffusion('diffusion', 'const i of prange(1, C.length - 1)', (e) => e), { parallel: { threads } });
  nb.run(diffusion('diffusionShared', 'const i of prange(1, C.length - 1)', (e) => `shared.from(${e})`), {
    parallel: { threads, schedule: { kind: 'dynamic', chunk: 1000 } },
  });
  const serial = nb.fn<(nt: number, nx: number) => Float64Array>('serial');
  const parallel = nb.fn<(nt: number, nx: number) => Float64Array>('diffusion');
  const parallelShared = nb.fn<(nt: number, nx: number) => Float64Array>('diffusionShared');

  it('compiles without messages (disjoint writes C_[i])', () => expect(parallelCell.messages).toEqual([]));

  it('equals the serial implementation bit for bit (arrays copied to shared memory and back)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const expected = serial(10, 100_003);
    const got = parallel(10, 100_003);
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    if (threads === 1) return; // one thread runs on the kernel thread: nothing to share
    // The caller's own arrays hold the result: the loop wrote through to them.
    expect(got.buffer).toBeInstanceOf(ArrayBuffer);
    const notes = warn.mock.calls.flat().join('\n');
    // C is only read (copied in), C_ is written (copied in and out).
    expect(notes).toMatch(/note: 'C' is not in shared memory, so the prange loop on line 11 copies it in on every run \(781\.3 KiB\)/);
    expect(notes).toMatch(/note: 'C_' is not in shared memory, so the prange loop on line 11 copies it in and out on every run \(781\.3 KiB each way\)/);
  });

  it('equals the serial implementation bit for bit (shared arrays, dynamic schedule)', () => {
    const expected = serial(25, 54_321);
    const got = parallelShared(25, 54_321);
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });
});
