/**
 * Error paths: a task that throws, a worker that dies, values that cannot be shipped. After
 * each, the pool is usable for the next call.
 */
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool, RemoteError, UnshippableError, WorkerDiedError } from '../dist/src/pool/index.js';
import { NotebookFixture } from './fixtures/ship/notebook-fixture.js';
import { backends } from './fixtures/pool/helpers.js';

const cwd = path.join(__dirname, 'fixtures', 'pool');
const quiet = { onOutput: () => undefined };

describe.each(backends)('errors, %s', (backend) => {
  const nb = new NotebookFixture(cwd);
  const cell = nb.run(`
function checkPositive(x: number) {
  if (x < 0) throw new RangeError('negative input ' + x);
  return x;
}
function task(x: number) {
  return checkPositive(x) * 10;
}
function exitOn(x: number) {
  if (x === 3) process.exit(3);
  return x;
}
function crashOn(x: number) {
  if (x === 2) process.kill(process.pid, 'SIGKILL');
  return x;
}
function hog(x: number) {
  const keep: number[][] = [];
  if (x === 2) for (;;) keep.push(new Array(100000).fill(x));
  return x;
}`);
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ workers: 2, backend, definitions: nb, ...quiet });
  });
  afterAll(() => pool.close());

  it('a task that throws fails the call with a RemoteError naming the worker and the input; frames point at the cell', async () => {
    const err = (await pool.map(nb.exports.task as (x: number) => number, [1, 2, -7, 4]).catch((e: unknown) => e)) as RemoteError & {
      worker: number;
      index: number;
      input: unknown;
    };
    expect(err).toBeInstanceOf(RemoteError);
    expect(err.remoteName).toBe('RangeError');
    expect(err.message).toMatch(/^worker [12]( \(pid \d+\))? \(input #2: -7\): RangeError: negative input -7$/);
    expect(err).toMatchObject({ index: 2, input: -7 });
    expect([1, 2]).toContain(err.worker);
    const thrownAt = nb.position(cell, 'new RangeError');
    const calledAt = nb.position(cell, 'checkPositive(x) * 10');
    expect(err.stack).toContain(`${cell.file}:${thrownAt.line}:${thrownAt.column + 1}`);
    expect(err.stack).toContain(`${cell.file}:${calledAt.line}:${calledAt.column + 1}`);
    expect(err.stack).not.toMatch(/tslab-ship-|pool[/\\]entry/);
    expect(await pool.map(nb.exports.task as (x: number) => number, [1, 2])).toEqual([10, 20]);
  });

  it('a worker that calls process.exit is reported with the input it was running, and replaced', async () => {
    const err = (await pool.map(nb.exports.exitOn as (x: number) => number, [1, 2, 3, 4]).catch((e: unknown) => e)) as WorkerDiedError;
    expect(err).toBeInstanceOf(WorkerDiedError);
    expect(err.message).toMatch(/^worker [12]( \(pid \d+\))? died while running input #2 \(3\): it exited with code 3 /);
    expect(err.message).toContain('The worker was replaced');
    expect(err.index).toBe(2);
    expect(await pool.map((x: number) => x + 1, [1, 2, 3, 4])).toEqual([2, 3, 4, 5]);
    expect(pool.status().workers).toBe(2);
  });

  it('a worker that crashes (killed by a signal, or a thread terminated) is reported and replaced', async () => {
    if (backend === 'processes') {
      const err = (await pool.map(nb.exports.crashOn as (x: number) => number, [1, 2, 3]).catch((e: unknown) => e)) as WorkerDiedError;
      expect(err).toBeInstanceOf(WorkerDiedError);
      expect(err.message).toMatch(/died while running input #1 \(2\): it was killed by signal SIGKILL/);
    } else {
      const limited = new Pool({ workers: 2, backend, definitions: nb, resourceLimits: { maxOldGenerationSizeMb: 32 }, ...quiet });
      try {
        const err = (await limited.map(nb.exports.hog as (x: number) => number, [1, 2, 3]).catch((e: unknown) => e)) as WorkerDiedError;
        expect(err).toBeInstanceOf(WorkerDiedError);
        expect(err.message).toMatch(/^worker [12] died while running input #1 \(2\): it ran out of memory \(resourceLimits\.maxOldGenerationSizeMb = 32\)/);
        expect(await limited.map((x: number) => x * 2, [1, 2, 3])).toEqual([2, 4, 6]);
      } finally {
        await limited.close();
      }
    }
    expect(await pool.map((x: number) => -x, [1, 2])).toEqual([-1, -2]);
  });

  it('a result or an input that cannot be cloned is reported with its input, not as a crash', async () => {
    const result = await pool.map((x: number) => ({ value: x, later: () => x }), [1]).catch((e: Error) => e);
    expect((result as Error).message).toMatch(
      /^worker [12]( \(pid \d+\))? \(input #0: 1\): TypeError: the task returned a function at \.later, which cannot be sent back to the main thread; return plain data instead$/,
    );
    const input = await pool.map((o: { f: unknown }) => typeof o.f, [{ f: Math.max }]).catch((e: Error) => e);
    expect((input as Error).message).toBe(
      'input #0 could not be sent to a worker: function max() { [native code] } could not be cloned. Pass plain data; ship functions by referring to them from the task function, or bind them with partial().',
    );
    expect(await pool.map((x: number) => x, [7])).toEqual([7]);
  });

  it('loading the shipped code can fail (a missing module): reported before any input ran', async () => {
    // A notebook whose cell imported a module that workers cannot find (e.g. removed since).
    const missing = { name: 'missing', kind: 'import' as const, cell: 'cell In[9]', value: () => undefined, locate: () => undefined };
    const lookup = {
      cwd,
      lookup: (name: string) => (name === 'missing' ? { ...missing, importSpec: { module: './no-such-module', form: 'namespace' as const } } : undefined),
    };
    const p = new Pool({ workers: 1, backend, definitions: lookup, ...quiet });
    try {
      const err = await p.map(new Function('x', 'return exports.missing.f(x)') as (x: number) => number, [1]).catch((e: Error) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as Error).message).toMatch(/^worker 1 \(while loading the shipped code, before any input ran\): Error: Cannot find module/);
    } finally {
      await p.close();
    }
  });
});

describe.each(backends)('unshippable values, %s', (backend) => {
  const nb = new NotebookFixture(cwd);
  const socket = new net.Socket();
  (globalThis as Record<string, unknown>).__poolTestSocket = socket;
  nb.run('const conn = (globalThis as any).__poolTestSocket;');
  nb.run('function send(x: number) { return conn.write(String(x)); }');
  nb.run('function makeCounter() { let count = 0; return function counter(x: number) { return x + count++; }; }\nconst counter = makeCounter();');
  nb.run('class Account { constructor(public balance: number) {} deposit(x: number) { this.balance += x; } }\nconst account = new Account(10);\nfunction audit(x: number) { return account.balance + x; }');
  let pool: Pool;
  beforeAll(() => {
    pool = new Pool({ workers: 1, backend, definitions: nb, ...quiet });
  });
  afterAll(async () => {
    socket.destroy();
    await pool.close();
  });

  const shipError = async (name: string): Promise<UnshippableError> =>
    (await pool.map(nb.exports[name] as (x: number) => unknown, [1]).catch((e: unknown) => e)) as UnshippableError;

  it('a socket: names the variable, its cell, and says to create it inside the task', async () => {
    const err = await shipError('send');
    expect(err).toBeInstanceOf(UnshippableError);
    expect(err.message).toMatch(/^Cannot send 'conn' \(from cell In\[1\]\), which 'send' refers to, to workers: it is a socket \(net\.Socket\)/);
    expect(err.message).toContain('Fix: create it inside the task');
  });

  it('a closure over live state: names the captured variable and the fix', async () => {
    const err = await shipError('counter');
    expect(err.message).toBe(
      "Cannot send 'counter' (from cell In[3]) to workers: it is a closure over live state: it refers to 'count', a variable of an enclosing function that workers cannot see. Fix: pass 'count' as an argument (or bind it with partial), or define 'count' at the top level of a cell.",
    );
  });

  it('a class instance with methods: names it and says to use a plain object', async () => {
    const err = await shipError('audit');
    expect(err.message).toMatch(/^Cannot send 'account' \(from cell In\[4\]\), which 'audit' refers to, to workers: it is an instance of class Account, which has methods/);
    expect(err.message).toContain('Fix: use a plain object');
    expect(await pool.map((x: number) => x * 3, [1, 2])).toEqual([3, 6]);
  });
});
