/**
 * The runtime as a plain library (parallelFor, parallelReduce, shared, prange) in a Node
 * program of its own: results, errors, workers' console output, and the program exits by
 * itself (the team never keeps a process alive).
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parallelFor, ParallelRuntime, prange, shared } from '../dist/src/parallel/index.js';

const program = path.join(__dirname, 'fixtures', 'parallel', 'plain-program.js');

describe('a plain Node program', () => {
  it('runs loops on the team, sees worker output, and exits by itself', async () => {
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = execFile(process.execPath, [program], { timeout: 30_000, cwd: path.dirname(program) }, (err, out) =>
        resolve({ stdout: out, code: err ? ((err as { code?: number }).code ?? null) : 0 }),
      );
      child.stdin?.end();
    });
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    // Worker output may arrive after the main thread's (it travels through the event loop).
    const result = JSON.parse(lines.find((l) => l.startsWith('{'))!);
    expect(result.sum).toBe((1_000_000 * 999_999) / 2);
    expect(result.squares).toEqual(Array.from({ length: 16 }, (_, i) => i * i));
    expect(result.maxSin).toBe(Math.max(...Array.from({ length: 1000 }, (_, i) => Math.sin(i))));
    expect(result.failure).toBe('RemoteError: thread 1 (iteration 9 of the parallel loop): TypeError: nine');
    expect(result.closure).toBe('UnshippableError');
    expect(result.main).toEqual([0, true]);
    expect(lines).toContain('hello from thread 0 of 2 (iteration 0)');
    expect(lines).toContain('hello from thread 1 of 2 (iteration 1)');
  });
});

describe('option checks, one message per field', () => {
  it.each([
    [{ threads: 0 }, 'threads must be a positive integer (at most 256), got 0'],
    [{ threads: 1.5 }, 'threads must be a positive integer (at most 256), got 1.5'],
    [{ schedule: 'guided' }, "schedule must be 'static' or 'dynamic', optionally with a chunk size ('dynamic,64'), got guided"],
  ])('parallelFor %o', (options, message) => {
    expect(() => parallelFor(0, 1, () => undefined, options as never)).toThrow(message);
  });

  it.each([
    [{ spinMicros: -1 }, 'options.spinMicros must be a non-negative number of microseconds'],
    [{ note: 'x' }, 'options.note must be a function'],
  ])('new ParallelRuntime(%o)', (options, message) => {
    expect(() => new ParallelRuntime(options as never)).toThrow(message);
  });
});

describe('helpers', () => {
  it('shared() allocates zeroed typed arrays in shared memory; shared.from copies into it', () => {
    const a = shared(Float64Array, 4);
    expect(a).toBeInstanceOf(Float64Array);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(a)).toEqual([0, 0, 0, 0]);
    const b = shared.from(new Int32Array([1, 2, 3]));
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(b)).toEqual([1, 2, 3]);
    expect(shared.from(b)).toBe(b);
    expect(shared.isShared(b)).toBe(true);
    expect(() => shared(Float64Array, -1)).toThrow('shared(): length must be a non-negative integer, got -1');
  });

  it('prange outside %%parallel is a serial range, like Python range', () => {
    expect([...prange(4)]).toEqual([0, 1, 2, 3]);
    expect([...prange(2, 5)]).toEqual([2, 3, 4]);
    expect([...prange(5, 2, -1)]).toEqual([5, 4, 3]);
    expect([...prange(3, 3)]).toEqual([]);
  });
});
