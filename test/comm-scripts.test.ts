/**
 * Scripts as ranks (runScript and `tslab-parallel mpirun`): .ts files compiled on load with
 * their stacks on .ts lines, .js and .mjs files, arguments, and `comm` from 'tslab-parallel'.
 */
import * as path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mpirunCommand } from '../dist/src/cli/mpirun.js';
import { runScript } from '../dist/src/comm/index.js';
import { backends, type Backend } from './fixtures/comm/backends.js';
import { expectNoLeaks, resources, type Resources } from './fixtures/comm/leaks.js';

const fixture = (name: string) => path.join(__dirname, 'fixtures', 'comm', name);

describe.each(backends)('%s', (backend: Backend) => {
  let before: Resources;
  beforeAll(async () => {
    await runScript(fixture('no-main.js'), [], { np: 2, backend, onOutput: () => {} });
    before = resources();
  });
  afterEach(async () => expectNoLeaks(before));

  it('a .ts script runs as N ranks with its arguments; comm comes from tslab-parallel; main() returns the result', async () => {
    const out: string[] = [];
    const values = await runScript<number>(fixture('simpson.ts'), ['0.001', 'extra'], {
      np: 3,
      backend,
      onOutput: (rank, stream, text) => out.push(`${rank} ${stream} ${text}`),
    });
    expect(values).toHaveLength(3);
    for (const v of values) expect(Math.abs(v - (Math.E - 1))).toBeLessThan(1e-10);
    expect(out).toEqual([`0 stdout integral is ${(Math.E - 1).toFixed(12)} (0.001 extra)\n`]);
  });

  it('a failing .ts script is reported with the line of the .ts file', async () => {
    const err = await runScript(fixture('failing.ts'), [], { np: 2, backend, onOutput: () => {} }).catch((e: Error) => e);
    expect((err as Error).message).toBe('rank 1: Error: piece 1 is broken');
    expect((err as Error).stack).toContain(`${fixture('failing.ts')}:7:`);
  });

  it('a .js script without main() is done when its work is', async () => {
    const out: string[] = [];
    await runScript(fixture('no-main.js'), [], { np: 2, backend, onOutput: (rank, _s, text) => out.push(`${rank}: ${text}`) });
    expect(out.sort()).toEqual(['0: total 3\n', '1: total 3\n']);
  });

  it('mpirun runs a script, prints with [rank k], and exits with the abort code or 0', async () => {
    const { out, err, code } = await captured(() => mpirunCommand(['-np', '2', '--backend', backend, fixture('simpson.ts'), '0.01']));
    expect([code, err]).toEqual([0, '']);
    expect(out).toMatch(/^\[rank 0\] integral is 1\.7182818\d+ \(0\.01\)\n$/);
    const aborted = await captured(() => mpirunCommand(['-np', '2', `--backend=${backend}`, fixture('aborting.mjs')]));
    expect(aborted.code).toBe(7);
    expect(aborted.err).toBe('rank 1: AbortError: comm.abort(7) was called, so every rank was stopped\n');
  });
});

/** Runs `f` with this process's stdout and stderr captured. */
async function captured(f: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { stdout, stderr } = process;
  const saved = [stdout.write, stderr.write];
  stdout.write = ((text: string) => (out.push(String(text)), true)) as typeof stdout.write;
  stderr.write = ((text: string) => (err.push(String(text)), true)) as typeof stderr.write;
  try {
    return { code: await f(), out: out.join(''), err: err.join('') };
  } finally {
    [stdout.write, stderr.write] = saved as [typeof stdout.write, typeof stderr.write];
  }
}

describe('mpirun usage', () => {
  it.each([
    [[], 'mpirun needs -np N (e.g. tslab-parallel mpirun -np 4 simpson.ts)'],
    [['-np', 'x', 'a.ts'], "-np must be a positive integer, got 'x'"],
    [['-np', '2'], 'mpirun needs the script to run (e.g. tslab-parallel mpirun -np 4 simpson.ts)'],
    [['-np', '2', '--backend', 'gpu', 'a.ts'], "--backend must be threads, processes or mpi, got 'gpu'"],
    [['-np', '2', '--hostfile', 'hosts', 'a.ts'], '--hostfile and --mpirun-args go with --backend mpi'],
    [['--frobnicate'], 'unknown option --frobnicate'],
  ])('%o exits 2: %s', async (argv, message) => {
    const { code, err } = await captured(() => mpirunCommand(argv));
    expect(code).toBe(2);
    expect(err).toContain(`tslab-parallel mpirun: ${message}\n`);
  });
});
