/** The call API (map, starmap, imap, imapUnordered, apply, submit/asCompleted) and its options. */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asCompleted, defaultChunksize, Pool, type ProgressReport } from '../dist/src/pool/index.js';
import { NotebookFixture } from './fixtures/ship/notebook-fixture.js';
import { backends, outputCollector } from './fixtures/pool/helpers.js';

const cwd = path.join(__dirname, 'fixtures', 'pool');
const sleepThen = async (x: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 40 * x));
  return x;
};

describe('default chunk size (Python: divmod(len, 4 × workers), +1 with a remainder)', () => {
  it.each([
    [0, 4, 0],
    [9, 8, 1],
    [32, 8, 1],
    [33, 8, 2],
    [100_000, 2, 12_500],
    [100_001, 2, 12_501],
  ])('%i items on %i workers → %i', (length, workers, expected) => {
    expect(defaultChunksize(length, workers)).toBe(expected);
  });
});

describe.each(backends)('calls, %s', (backend) => {
  const out = outputCollector();
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ workers: 2, backend, onOutput: out.onOutput });
  });
  afterAll(() => pool.close());

  it('map keeps input order, for arrays, typed arrays, Sets and generators, with any chunk size', async () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const squares = xs.map((x) => x * x);
    expect(await pool.map((x: number) => x * x, xs)).toEqual(squares);
    expect(await pool.map((x: number) => x * x, xs, { chunksize: 1 })).toEqual(squares);
    expect(await pool.map((x: number) => x * x, xs, { chunksize: 333 })).toEqual(squares);
    expect(await pool.map((x: number) => x * x, Float64Array.from(xs))).toEqual(squares);
    expect(await pool.map((x: number) => x + 1, new Set([1, 2, 3]))).toEqual([2, 3, 4]);
    expect(await pool.map((x: number) => x, (function* () { yield* [5, 6]; })())).toEqual([5, 6]);
    expect(await pool.map((x: number) => x, [])).toEqual([]);
    expect(await pool.map(Math.sqrt, [4, 9])).toEqual([2, 3]); // a native function ships by its path
  });

  it('starmap, apply and imap', async () => {
    expect(await pool.starmap((a: number, b: number) => a ** b, [[2, 3], [3, 2], [10, 0]])).toEqual([8, 9, 1]);
    expect(await pool.apply((a: number, b: string) => b.repeat(a), 3, 'ab')).toBe('ababab');
    const ordered: number[] = [];
    for await (const r of pool.imap(sleepThen, [3, 1, 2])) ordered.push(r);
    expect(ordered).toEqual([3, 1, 2]);
  });

  it('imapUnordered yields results as they complete', async () => {
    const got: number[] = [];
    for await (const r of pool.imapUnordered(sleepThen, [6, 1])) got.push(r);
    expect(got).toEqual([1, 6]);
  });

  it('submit returns futures; asCompleted yields them as they finish', async () => {
    const futures = [12, 1, 3].map((x) => pool.submit(sleepThen, x));
    const order: number[] = [];
    for await (const f of asCompleted(futures)) order.push(await f.result());
    // Two workers: 12 and 1 start first; 1 finishes, then 3 starts and finishes long before 12.
    expect(order).toEqual([1, 3, 12]);
    expect(futures.every((f) => f.done() && !f.cancelled())).toBe(true);
    const failing = pool.submit((x: number) => {
      throw new Error(`no ${x}`);
    }, 7);
    expect(String(await failing.exception())).toMatch(/input #0: \[7\]\): Error: no 7$/);
  });

  it('forwards output live, each line prefixed with its worker', async () => {
    out.lines.length = 0;
    await pool.map(
      (x: number) => {
        console.log(`line one of ${x}\nline two of ${x}`);
        console.error(`warning ${x}`);
        process.stdout.write(`partial ${x}`);
        return x;
      },
      [1, 2],
      { chunksize: 1 },
    );
    for (const x of [1, 2]) {
      const mine = out.lines.filter((l) => l.endsWith(` of ${x}`) || l.endsWith(`warning ${x}`) || l.endsWith(`partial ${x}`));
      expect(mine).toHaveLength(4);
      const worker = /^\[worker (\d)\] /.exec(mine[0]!)?.[1];
      expect(mine.sort()).toEqual(
        [`line one of ${x}`, `line two of ${x}`, `warning ${x}`, `partial ${x}`].map((l) => `[worker ${worker}] ${l}`).sort(),
      );
    }
  });

  it('typed arrays on a SharedArrayBuffer are shared between threads (copied to processes); transfer moves buffers', async () => {
    const shared = new Int32Array(new SharedArrayBuffer(16));
    const sums = await pool.map(
      (a: Int32Array) => {
        Atomics.add(a, 0, 1);
        return a.length;
      },
      [shared, shared],
    );
    expect(sums).toEqual([4, 4]);
    expect(shared[0]).toBe(backend === 'threads' ? 2 : 0);
    const big = new Float64Array(1000).fill(2);
    const [doubled] = await pool.map((a: Float64Array) => a.map((v) => v * 2), [big], { transfer: true });
    expect(doubled).toBeInstanceOf(Float64Array);
    expect(doubled![999]).toBe(4);
    expect(big.length).toBe(backend === 'threads' ? 0 : 1000); // transferred away (threads); processes always copy
  });

  it('reports progress of long calls to the progress callback, ending with a final report', async () => {
    const reports: ProgressReport[] = [];
    const slowPool = new Pool({ workers: 2, backend, progressAfter: 0.1, onProgress: (r) => reports.push(r), onOutput: () => undefined });
    try {
      await slowPool.map(async (x: number) => new Promise((r) => setTimeout(() => r(x), 60)), Array.from({ length: 16 }, (_, i) => i), {
        chunksize: 1,
      });
      await slowPool.map((x: number) => x, [1, 2, 3], { progressAfter: -1 });
    } finally {
      await slowPool.close();
    }
    expect(reports.length).toBeGreaterThanOrEqual(2);
    const last = reports[reports.length - 1]!;
    expect(last).toMatchObject({ method: 'map', done: 16, total: 16, finished: true, outcome: 'completed', etaSeconds: 0 });
    expect(reports.every((r) => r.call === last.call)).toBe(true);
    expect(reports[0]!.finished).toBe(false);
    expect(reports[0]!.rate).toBeGreaterThanOrEqual(0);
  });
});

describe.each(backends)('notebook functions through the pool, %s', (backend) => {
  const nb = new NotebookFixture(path.join(__dirname, 'fixtures', 'ship'));
  nb.run("import * as path from 'node:path';\nimport { triple } from './helpers';\nimport greet from './greeting';");
  nb.run('const OFFSET = 100;\nconst table = new Float64Array([0.5, 1.5]);\nfunction helper(x: number) { return triple(x) + OFFSET; }');
  nb.run('class Point { constructor(public x: number, public y: number) {} norm() { return Math.hypot(this.x, this.y); } }');
  nb.run('function task(x: number) { return [helper(x), path.basename("/d/f.ts"), greet("w"), table[x % 2], new Point(3, 4).norm()]; }');
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ workers: 2, backend, definitions: nb, cwd, onOutput: () => undefined });
  });
  afterAll(() => pool.close());

  it('ships helpers, constants, classes and imports (built-in, relative JS, relative TS)', async () => {
    expect(await pool.map(nb.exports.task as (x: number) => unknown, [1, 2])).toEqual([
      [103, 'f.ts', 'hello w x3', 1.5, 5],
      [106, 'f.ts', 'hello w x3', 0.5, 5],
    ]);
  });

  it('sees the notebook’s current values at each call', async () => {
    nb.exports.OFFSET = 1000;
    expect(await pool.map(nb.exports.helper as (x: number) => number, [1])).toEqual([1003]);
    nb.exports.OFFSET = 100;
  });

  it('standalone code that captures a local is refused with the fix', async () => {
    const factor = 3;
    await expect(pool.map((x: number) => x * factor, [1])).rejects.toThrow(
      "Cannot send 'task' to workers: it is a closure over live state: it refers to 'factor', a variable of an enclosing function that workers cannot see.",
    );
  });
});
