/**
 * Every notebook in notebooks/, executed by Jupyter's own client: Debian's
 * `jupyter nbconvert --to notebook --execute` with this package's kernelspec installed in a
 * private prefix. No cell fails, the outputs show the lectures' results
 * (test/fixtures/notebooks-lectures/checks.ts), and they match the committed outputs as the
 * runner's do (timings, pids, figure ids masked; nondeterministic cells by structure).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJupyterEnv, kJupyter, type JupyterEnv } from './helpers/jupyter-env.js';
import { stripAnsi } from './helpers/text.js';
import { checkCommon, checks } from './fixtures/notebooks-lectures/checks.js';
import { differences } from './fixtures/notebooks-lectures/compare.js';
import { ExecutedNotebook, kNotebooks, notebookNames, readJson } from './fixtures/notebooks-lectures/notebook.js';

const names = notebookNames();
let env: JupyterEnv;
const failures = new Map<string, string>();

beforeAll(() => {
  env = createJupyterEnv();
  for (const name of names) {
    // The kernel runs in the notebook's own directory, as in JupyterLab; outputs go to the temp dir.
    const r = spawnSync(
      kJupyter,
      [
        'nbconvert', '--to', 'notebook', '--execute', join(kNotebooks, `${name}.ipynb`),
        '--ExecutePreprocessor.kernel_name=tslab-parallel', '--ExecutePreprocessor.timeout=120',
        '--output-dir', join(env.dir, 'out'), '--output', name,
      ],
      { env: env.env, cwd: env.dir, encoding: 'utf8', timeout: 240_000 },
    );
    if (r.status !== 0) failures.set(name, stripAnsi(`${r.stderr ?? ''}${r.error ? String(r.error) : ''}`).slice(-3000));
  }
}, 600_000);

afterAll(() => env?.cleanup());

describe('notebooks executed by jupyter nbconvert --execute', () => {
  it.each(names)('%s runs without a failing cell and shows the lecture’s results', (name) => {
    expect(failures.get(name)).toBeUndefined();
    const nb = ExecutedNotebook.read(name, join(env.dir, 'out', `${name}.ipynb`));
    checkCommon(nb);
    checks[name]!(nb);
  });

  it.each(names)('%s matches the committed outputs', (name) => {
    expect(failures.get(name)).toBeUndefined();
    expect(differences(readJson(join(kNotebooks, `${name}.ipynb`)), readJson(join(env.dir, 'out', `${name}.ipynb`)))).toEqual([]);
  });
});
