/**
 * Every notebook in notebooks/, executed top to bottom by the project's runner
 * (`tslab-parallel run`, as `npm start` does): no cell fails, the outputs show the lectures'
 * results (integrals within tolerance, the race warnings, racy results that vary, identical
 * fields, …: test/fixtures/notebooks-lectures/checks.ts), and the committed outputs are up to
 * date — the fresh run equals them once timings, pids and figure ids are masked, with cells
 * tagged `nondeterministic` compared by structure (test/fixtures/notebooks-lectures/compare.ts).
 *
 * When the comparison fails after a deliberate change, regenerate the committed notebooks:
 * `npm run notebooks` (scripts/notebooks.mjs, then `tslab-parallel run notebooks --output notebooks`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommon, checks } from './fixtures/notebooks-lectures/checks.js';
import { differences } from './fixtures/notebooks-lectures/compare.js';
import { ExecutedNotebook, kNotebooks, kRepo, notebookNames, readJson } from './fixtures/notebooks-lectures/notebook.js';

const names = notebookNames();
let out: string;
let report: { stdout: string; stderr: string; status: number | null };

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'tsp-notebooks-run-'));
  // One runner process for all notebooks, each in a fresh kernel, as `npm start` runs them.
  const r = spawnSync(process.execPath, [join(kRepo, 'dist', 'src', 'cli.js'), 'run', kNotebooks, '--output', out, '--timeout', '120'], {
    encoding: 'utf8',
    timeout: 420_000,
  });
  report = { stdout: r.stdout, stderr: r.stderr, status: r.status };
}, 450_000);

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('notebooks run by tslab-parallel run', () => {
  it('runs every notebook without a failing cell', () => {
    expect(report.status, `${report.stdout}\n${report.stderr}`).toBe(0);
    for (const name of names) expect(report.stdout).toMatch(new RegExp(`${name}\\.ipynb: \\d+ cells, ok, `));
    // Per-notebook times, for the record (not asserted: the machine is shared).
    console.log(report.stdout.trim());
  });

  it.each(names)('%s shows the lecture’s results', (name) => {
    const nb = ExecutedNotebook.read(name, join(out, `${name}.ipynb`));
    checkCommon(nb);
    checks[name]!(nb);
  });

  it.each(names)('%s: the committed outputs are up to date (run npm run notebooks if not)', (name) => {
    expect(differences(readJson(join(kNotebooks, `${name}.ipynb`)), readJson(join(out, `${name}.ipynb`)))).toEqual([]);
  });
});
