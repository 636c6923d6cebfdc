/**
 * The README's quick start, `npm ci && npm start`, as a new user with nothing but Node runs it:
 * a fresh clone of this repository (its committed HEAD), a PATH holding only Node and core
 * tools (test/helpers/bare-path.ts: no jupyter, python3, mpirun, GNU parallel). It must exit 0,
 * run every notebook (outputs written to build/notebooks/), say in one plain line what it
 * skipped and how to get it (the slides need nbconvert), and never show a raw ENOENT or stack.
 * `npm ci` needs the npm registry (or npm's cache); nothing else leaves the machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBarePath, type BarePath } from './helpers/bare-path.js';
import { kRepoRoot } from './helpers/jupyter-env.js';

let work: string;
let repo: string;
let bare: BarePath;
let install: { code: number | null; output: string };
let start: { code: number | null; output: string };

function npm(args: string[], timeout: number) {
  const r = spawnSync('npm', args, { cwd: repo, env: bare.env, encoding: 'utf8', timeout });
  return { code: r.status, output: `${r.stdout}\n${r.stderr}` };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsp-quickstart-'));
  repo = join(work, 'tslab-parallel');
  execFileSync('git', ['clone', '--quiet', kRepoRoot, repo]);
  // A checkout whose node_modules is a link to a shared install (worktrees) must never let
  // npm ci empty that install through the link: the clone gets its own folder.
  if (lstatSync(join(repo, 'node_modules'), { throwIfNoEntry: false })?.isSymbolicLink()) unlinkSync(join(repo, 'node_modules'));
  expect(existsSync(join(repo, 'node_modules'))).toBe(false);
  bare = createBarePath();
  install = npm(['ci', '--no-audit', '--no-fund', '--prefer-offline'], 300_000);
  if (install.code === 0) start = npm(['start'], 600_000);
  console.log(start?.output);
}, 900_000);

afterAll(() => {
  bare?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm ci && npm start with only Node on PATH', () => {
  it('npm ci installs without install-script warnings', () => {
    expect(install.code, install.output).toBe(0);
    expect(install.output).not.toMatch(/install-scripts|allowScripts/);
  });

  it('npm start exits 0 and says in one line what it skipped and how to get it', () => {
    expect(start.code, start.output).toBe(0);
    expect(start.output).toMatch(/^Skipped the slides: they need jupyter nbconvert: sudo apt-get install jupyter-nbconvert, or scripts\/setup-system\.sh$/m);
    expect(start.output).not.toMatch(/ENOENT|\n\s+at .+\(.+:\d+:\d+\)/);
    expect(existsSync(join(repo, 'build', 'slides'))).toBe(false);
  });

  it('runs every notebook without a failing cell or shell command, and writes them with outputs', () => {
    const names = readdirSync(join(repo, 'notebooks')).filter((f) => f.endsWith('.ipynb'));
    expect(names.length).toBeGreaterThanOrEqual(9);
    for (const name of names) {
      expect(start.output).toMatch(new RegExp(`${name.replace('.', '\\.')}: \\d+ cells, ok, \\d+\\.\\d s -> `));
      const nb = JSON.parse(readFileSync(join(repo, 'build', 'notebooks', name), 'utf8')) as { cells: { cell_type: string; execution_count: number | null; outputs?: { output_type: string }[] }[] };
      const code = nb.cells.filter((c) => c.cell_type === 'code');
      for (const c of code) expect(c.execution_count, name).not.toBeNull();
      expect(code.some((c) => (c.outputs ?? []).length > 0), name).toBe(true);
      expect(code.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'error'), name).toEqual([]);
    }
    expect(start.output).toContain(`Executed notebooks are in ${join(repo, 'build', 'notebooks')}`);
    const lecture08 = readFileSync(join(repo, 'build', 'notebooks', '08-trivial-parallelism.ipynb'), 'utf8');
    expect(lecture08).toContain('GNU parallel is not installed (sudo apt-get install parallel, or scripts/setup-system.sh)');
  });
});
