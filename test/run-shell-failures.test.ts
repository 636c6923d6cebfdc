/**
 * `tslab-parallel run` counts shell commands that failed inside cells: `!cmd` carries on after
 * a non-zero exit (as IPython does), so without the count a notebook whose `!parallel …` printed
 * `command not found` would be reported as plain `ok`. `--strict` makes such a notebook fail
 * the run. Driven through the built CLI and a real kernel.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommon, checks } from './fixtures/notebooks-lectures/checks.js';
import { ExecutedNotebook, kNotebooks } from './fixtures/notebooks-lectures/notebook.js';
import { createBarePath } from './helpers/bare-path.js';
import { kCli } from './helpers/jupyter-env.js';

let dir: string;

const codeCell = (source: string) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null });
function writeNb(name: string, sources: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: sources.map(codeCell) }));
  return path;
}
function run(...args: string[]) {
  return runWith(process.env, ...args);
}
function runWith(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = spawnSync(process.execPath, [kCli, 'run', ...args, '--output', join(dir, 'out'), '--timeout', '60'], { encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsp-run-shell-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tslab-parallel run: failed shell commands', () => {
  it('counts them in the notebook line with the telling line of the first, and still exits 0', () => {
    const nb = writeNb('shell.ipynb', [
      '!echo fine',
      '!seq 1 3 | no-such-tool-i16 -n1 echo',
      '!cd /nonexistent-i16 && ls',
      '%%sh --no-raise\necho before; exit 3',
      'const after = 1 + 1;\nafter',
    ]);
    const r = run(nb);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/shell\.ipynb: 5 cells, ok, 3 shell commands failed, e\.g\. 'no-such-tool-i16: command not found', /);
  });

  it('a notebook whose commands all succeed says plain ok', () => {
    const r = run(writeNb('clean.ipynb', ['!echo fine', '%%sh\ntrue']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/clean\.ipynb: 2 cells, ok, \d+\.\d s ->/);
    expect(r.stdout).not.toContain('shell command');
  });

  it('--strict makes a failed shell command fail the run, and says so', () => {
    const nb = writeNb('one.ipynb', ['!exit 2', '1']);
    const r = run(nb, '--strict');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/one\.ipynb: 2 cells, ok, 1 shell command failed, e\.g\. 'command exited with code 2: exit 2'/);
    expect(r.stdout).toContain('--strict: a failed shell command counts as a failure');
    expect(run(writeNb('clean2.ipynb', ['!true']), '--strict').code).toBe(0);
  });

  it('a failing %%sh cell (an error) is counted as well as failing the run', () => {
    const r = run(writeNb('raises.ipynb', ['%%sh\nmissing-tool-i16']));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/raises\.ipynb: 1 cells, 1 error, 1 shell command failed, e\.g\. 'missing-tool-i16: command not found'/);
  });
});

describe('lecture 08 where GNU parallel is missing', () => {
  it('says so and runs the xargs -P version instead: no shell command fails, the lecture still shows its results', () => {
    const bare = createBarePath();
    try {
      const r = runWith(bare.env, join(kNotebooks, '08-trivial-parallelism.ipynb'), '--strict');
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/08-trivial-parallelism\.ipynb: \d+ cells, ok, \d/);
      const nb = ExecutedNotebook.read('08-trivial-parallelism', join(dir, 'out', '08-trivial-parallelism.ipynb'));
      expect(nb.cell('process.env.MANY = gnuParallel').stdout).toContain('GNU parallel is not installed (sudo apt-get install parallel, or scripts/setup-system.sh): the cells below run xargs -P instead');
      checkCommon(nb);
      checks['08-trivial-parallelism']!(nb);
    } finally {
      bare.cleanup();
    }
  });
});
