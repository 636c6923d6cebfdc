/**
 * `jupyter nbconvert --to notebook --execute` (Debian's nbconvert and nbclient) runs a notebook
 * that uses magics with this kernel; a failing cell is reported with its ename and evalue; and
 * the project's own runner (`tslab-parallel run`) produces the same notebook as nbconvert.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJupyterEnv, kCli, kJupyter, kRepoRoot, type JupyterEnv } from './helpers/jupyter-env.js';
import { readNormalised, type NormalisedCell } from './helpers/notebooks.js';
import { stripAnsi } from './helpers/text.js';

let env: JupyterEnv;
let notebook: string;

beforeAll(() => {
  env = createJupyterEnv();
  // The notebook runs in a directory of its own (both tools run kernels in the notebook's directory).
  const work = join(env.dir, 'work');
  mkdirSync(work);
  notebook = join(work, 'magics.ipynb');
  copyFileSync(join(kRepoRoot, 'test', 'fixtures', 'notebooks', 'magics.ipynb'), notebook);
});
afterAll(() => env?.cleanup());

function run(file: string, args: readonly string[]) {
  const r = spawnSync(file, args, { env: env.env, cwd: env.dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function nbconvert(output: string, ...extra: string[]) {
  return run(kJupyter, ['nbconvert', '--to', 'notebook', '--execute', ...extra, notebook, '--output-dir', join(env.dir, 'out'), '--output', output]);
}

const codeCells = (cells: NormalisedCell[]) => cells.filter((c) => c.cell_type === 'code');
const errorsOf = (cells: NormalisedCell[]) => codeCells(cells).flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === 'error'));

describe('nbconvert --execute', () => {
  it('fails on the first error cell and reports its ename and evalue', () => {
    const r = nbconvert('stops');
    expect(r.code).not.toBe(0);
    const text = stripAnsi(r.stderr);
    expect(text).toContain('CellExecutionError');
    expect(text).toContain('RangeError: expected failure: 5 is too big');
    expect(existsSync(join(env.dir, 'out', 'stops.ipynb'))).toBe(false);
  });

  it('with --allow-errors executes every cell: magics, shell, displays, and both errors in place', () => {
    const r = nbconvert('allowed', '--allow-errors');
    expect(r.code, r.stderr).toBe(0);
    const nb = readNormalised(join(env.dir, 'out', 'allowed.ipynb'));
    const cells = codeCells(nb.cells);
    expect(cells.map((c) => c.execution_count)).toEqual(cells.map((_, i) => i + 1));
    const bySource = (start: string) => cells.find((c) => c.source.startsWith(start))!.outputs!;
    expect(bySource('const xs')).toEqual([{ output_type: 'execute_result', execution_count: 1, metadata: {}, data: { 'text/plain': '[ 1, 2, 3 ]' } }]);
    expect(bySource('%env')).toEqual([
      { output_type: 'stream', name: 'stdout', text: 'env: TSP_NOTEBOOK_VAR=from-env\nshell sees from-env\n' },
    ]);
    expect(bySource('%%sh')).toEqual([{ output_type: 'stream', name: 'stdout', text: 'job 1\njob 2\njob 3\n' }]);
    // the display with an id was updated in place
    expect(bySource('display.html')).toEqual([
      { output_type: 'display_data', metadata: {}, data: { 'text/html': '<b>bold</b>', 'text/plain': '<b>bold</b>' } },
      { output_type: 'display_data', metadata: {}, data: { 'text/plain': 'step 2 of 2' } },
    ]);
    expect(bySource('%timeit -n')).toEqual([
      { output_type: 'stream', name: 'stdout', text: '<time> ± <time> per loop (mean ± std. dev. of 2 runs, 3 loops each)\n' },
    ]);
    expect(errorsOf(nb.cells).map((e) => [e.ename, e.evalue])).toEqual([
      ['RangeError', 'expected failure: 5 is too big'],
      ['UsageError', expect.stringContaining('%timeit: unknown option -x')],
    ]);
    expect(bySource('"after the errors')).toEqual([
      { output_type: 'execute_result', execution_count: cells.length, metadata: {}, data: { 'text/plain': 'after the errors: 1' } },
    ]);
    expect(nb.metadata.language_info).toMatchObject({ name: 'typescript', file_extension: '.ts' });
  });
});

describe('tslab-parallel run', () => {
  it('--allow-errors produces the same notebook as nbconvert --allow-errors (timings, ids and execution metadata aside)', () => {
    const r = run(process.execPath, [kCli, 'run', notebook, '--output', join(env.dir, 'run-allowed'), '--allow-errors']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('2 errors');
    const ours = readNormalised(join(env.dir, 'run-allowed', 'magics.ipynb'));
    const theirs = readNormalised(join(env.dir, 'out', 'allowed.ipynb'));
    expect(ours).toEqual(theirs);
  });

  it("writes notebooks that nbformat's own validator accepts (nbformat 4 schema)", () => {
    const written = [join(env.dir, 'run-allowed', 'magics.ipynb'), join(kRepoRoot, 'notebooks', '07-diffusion.ipynb')];
    for (const file of written) {
      const r = run('/usr/bin/python3', ['-c', 'import sys, nbformat; nb = nbformat.read(sys.argv[1], as_version=4); nbformat.validate(nb); print(nb.nbformat, nb.nbformat_minor)', file]);
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toMatch(/^4 \d+$/);
    }
  });

  it('without --allow-errors stops at the first error, as nbconvert does, and exits with 1', () => {
    const r = run(process.execPath, [kCli, 'run', notebook, '--output', join(env.dir, 'run-stops')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 error');
    const cells = codeCells(readNormalised(join(env.dir, 'run-stops', 'magics.ipynb')).cells);
    const failed = cells.findIndex((c) => c.outputs?.some((o) => o.output_type === 'error'));
    expect(cells[failed].outputs?.find((o) => o.output_type === 'error')).toMatchObject({ ename: 'RangeError', evalue: 'expected failure: 5 is too big' });
    for (const later of cells.slice(failed + 1)) expect(later).toMatchObject({ outputs: [], execution_count: null });
  });
});
