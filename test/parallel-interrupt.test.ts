/**
 * Interrupting a long prange the way the kernel does: SIGINT breaks the main thread out of the
 * cell (vm breakOnSigint, no finally blocks run), then the kernel notifies interrupt listeners.
 * The team is stopped (workers deep in a chunk included), the kernel survives, the next loop
 * works, and no thread is left after shutdown.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parallelRuntime, shutdownParallel } from '../dist/src/parallel/index.js';
import { notifyKernelInterrupt } from '../dist/src/util/interrupt.js';
import { FixtureNotebook } from './fixtures/parallel/notebook.js';

const threadCount = () => fs.readdirSync('/proc/self/task').length;

/**
 * Runs `cell` while another process sends SIGINT to this one (the main thread is blocked), first
 * after `ms`, then every 300 ms until the cell stops: on a busy machine the cell may start late.
 */
function interrupting(ms: number, cell: () => void): void {
  const sender = spawn('sh', ['-c', `sleep ${ms / 1000}; while kill -INT ${process.pid}; do sleep 0.3; done`], { stdio: 'ignore' });
  try {
    cell();
  } finally {
    sender.kill('SIGKILL');
  }
}

// A stray SIGINT outside a breakOnSigint script must not kill the test process.
const ignoreSigint = () => undefined;
let baseline = 0;
beforeAll(() => {
  process.on('SIGINT', ignoreSigint);
  baseline = threadCount();
});
afterAll(() => process.off('SIGINT', ignoreSigint));

describe('interrupt during a long prange', () => {
  const nb = new FixtureNotebook();
  nb.run(
    [
      'function roots(n: number): number {',
      '  let tot = 0;',
      '  for (const i of prange(n)) tot += Math.sqrt(i);',
      '  return tot;',
      '}',
      'function stuckWorkers(n: number): number {',
      '  let tot = 0;',
      '  for (const i of prange(n)) {',
      '    // Only the workers take long: the main thread finishes and waits for them.',
      '    if (threadId() !== 0) for (let k = 0; k < 1e12; k++) tot += k;',
      '  }',
      '  return tot;',
      '}',
    ].join('\n'),
    { parallel: { threads: 2 } },
  );
  const roots = nb.fn<(n: number) => number>('roots');
  const expected = (n: number) => {
    let tot = 0;
    for (let i = 0; i < n; i++) tot += Math.sqrt(i);
    return tot;
  };

  it.each([
    ['while the main thread runs its chunk', 'roots(1e13)'],
    ['while the main thread waits for the workers', 'stuckWorkers(4)'],
  ])('%s: the cell stops, the next loop works', async (_, call) => {
    expect(roots(1000)).toBeCloseTo(expected(1000), 6);
    expect(() => interrupting(400, () => nb.run(call, { breakOnSigint: true }))).toThrow(/interrupted/);
    expect(notifyKernelInterrupt()).toEqual([]);
    expect(roots(100_000)).toBeCloseTo(expected(100_000), 3);
    expect(parallelRuntime().workers).toBe(1);
  });

  it('without a notification, the next loop sees that the previous one never completed', async () => {
    expect(() => interrupting(400, () => nb.run('roots(1e13)', { breakOnSigint: true }))).toThrow(/interrupted/);
    await new Promise((resolve) => setImmediate(resolve));
    expect(roots(100_000)).toBeCloseTo(expected(100_000), 3);
  });

  it('leaves no thread after shutdown', async () => {
    expect(threadCount()).toBeGreaterThan(baseline);
    await shutdownParallel();
    expect(threadCount()).toBe(baseline);
  });
});
