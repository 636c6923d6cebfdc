/**
 * The %%parallel magic through its MagicContext: arguments parsed from the spec, warnings
 * printed with the cell's own line numbers, compile errors as one message per problem, the
 * notebook bindings (prange, shared, numThreads, threadId), and the cell's value returned.
 * The context is a test fixture over FixtureNotebook (itself standing in for the engine).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../dist/src/magics/args.js';
import { parallelCell, parseSchedule } from '../dist/src/magics/parallel.js';
import type { MagicContext } from '../dist/src/magics/types.js';
import { shutdownParallel } from '../dist/src/parallel/index.js';
import { FixtureNotebook } from './fixtures/parallel/notebook.js';

afterAll(() => shutdownParallel());

interface Ran {
  readonly value: unknown;
  readonly stderr: string;
  readonly bound: Map<string, string | undefined>;
}

/** Runs `%%parallel LINE` with BODY starting on cell line 2, as the kernel would. */
async function runMagic(nb: FixtureNotebook, line: string, body: string): Promise<Ran> {
  let stderr = '';
  const bound = new Map<string, string | undefined>();
  const state = new Map<string, unknown>();
  const ctx = {
    spec: parallelCell,
    args: parseArgs(parallelCell, line),
    line,
    body,
    bodyLine: 2,
    signal: new AbortController().signal,
    cwd: process.cwd(),
    definitions: nb.definitions,
    stdout: () => undefined,
    stderr: (text: string) => (stderr += text),
    setVariable: (name: string, value: unknown, type?: string) => {
      nb.exports[name] = value;
      bound.set(name, type);
    },
    state: <T>(key: string, create: () => T): T => {
      if (!state.has(key)) state.set(key, create());
      return state.get(key) as T;
    },
    onShutdown: () => undefined,
    execute: async (source: string) => {
      nb.run(source);
      const last = source.trim().split('\n').at(-1)!;
      return /^\w+$/.test(last) ? nb.exports[last] : undefined;
    },
  } as unknown as MagicContext;
  const value = await parallelCell.handler(ctx);
  return { value, stderr, bound };
}

describe('%%parallel', () => {
  it('compiles and runs the cell, with -n and the notebook bindings', async () => {
    const nb = new FixtureNotebook();
    delete nb.exports['prange'];
    delete nb.exports['shared'];
    const ran = await runMagic(
      nb,
      '-n 2',
      ['const ids = shared(Int32Array, 1000);', 'for (const i of prange(1000)) ids[i] = threadId() + 10 * numThreads();', 'ids'].join('\n'),
    );
    expect([...new Set(ran.value as Int32Array)].sort()).toEqual([20, 21]);
    expect([...ran.bound.keys()]).toEqual(['prange', 'shared']);
    expect(ran.bound.get('prange')).toBe('typeof import("tslab-parallel").prange');
    expect(ran.stderr).toBe('');
  });

  it('prints warnings with the lines of the cell (the body starts on line 2)', async () => {
    const nb = new FixtureNotebook();
    const ran = await runMagic(nb, '', ['let val = -1;', 'for (const i of prange(100)) {', '  val = i;', '}'].join('\n'));
    expect(ran.stderr).toMatch(/^line 4: ParallelSafetyWarning: variable 'val' used in the prange loop on line 3 may be written simultaneously/);
  });

  it('stops on compile errors, listing each with its line', async () => {
    const nb = new FixtureNotebook();
    const body = ['async function f(xs: number[]) {', '  for (const i of prange(4)) {', '    xs[i] = await g(i);', '  }', '}'].join('\n');
    await expect(runMagic(nb, '', body)).rejects.toMatchObject({
      name: 'ParallelCompileError',
      message:
        "line 4: 'xs' is a plain JS array (declared on line 2): every thread gets its own copy, so writes " +
        'from the prange body would be lost. Allocate it in shared memory instead, e.g. shared(Float64Array, n) or ' +
        'shared.from(Float64Array.from(xs)).\n' +
        'line 4: await is not allowed in a prange body: the body runs synchronously on worker threads. ' +
        'Await the values you need before the loop.',
    });
  });

  it('checks its arguments', async () => {
    const nb = new FixtureNotebook();
    await expect(runMagic(nb, '--schedule guided', 'for (const i of prange(1)) {}')).rejects.toThrow(
      '%%parallel: --schedule guided is not a schedule; use static, dynamic, static,CHUNK or dynamic,CHUNK (e.g. --schedule dynamic,64)',
    );
    await expect(runMagic(nb, '', '  \n')).rejects.toThrow('%%parallel is a cell magic, but the cell body is empty');
    expect(() => parseArgs(parallelCell, '-n 0')).toThrow();
    expect(parseSchedule('dynamic,64')).toEqual({ kind: 'dynamic', chunk: 64 });
    expect(parseSchedule('static')).toEqual({ kind: 'static', chunk: 0 });
  });
});
