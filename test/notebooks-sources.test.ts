/**
 * The lecture notebooks as committed, without running a kernel:
 * - each notebooks/NN-*.ipynb is generated from notebooks/src/NN-*.md (scripts/notebooks.mjs) and
 *   still matches it cell for cell (type, source, slide type, tags);
 * - every cell has slide metadata, and each notebook opens with a slide;
 * - the committed outputs are there (every code cell executed) and show the lectures' results;
 * - the up-to-date comparison (test/fixtures/notebooks-lectures/compare.ts) is strict where it
 *   must be: a changed integral, a removed warning or a changed table fails it, while a race with
 *   another winner, other timings, pids and figure ids do not.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithSource, kSourcesDir, notebookFromSource, parseSource } from '../scripts/notebooks.mjs';
import { checkCommon, checks } from './fixtures/notebooks-lectures/checks.js';
import { differences, kNondeterministic, maskTimings } from './fixtures/notebooks-lectures/compare.js';
import { ExecutedNotebook, kNotebooks, notebookNames, readJson, type Json } from './fixtures/notebooks-lectures/notebook.js';

type Cell = { cell_type: string; id: string; metadata: Json; source: string[]; outputs?: Json[]; execution_count?: number | null };

const names = notebookNames();
const committed = (name: string) => readJson(join(kNotebooks, `${name}.ipynb`));
const clone = <T>(v: T): T => structuredClone(v);

describe('notebook sources (notebooks/src/*.md → notebooks/*.ipynb)', () => {
  it('has a source for every numbered notebook, and a notebook for every source', () => {
    const sources = readdirSync(kSourcesDir).filter((f: string) => f.endsWith('.md')).map((f: string) => f.replace(/\.md$/, '')).sort();
    expect(sources).toEqual(names);
    expect(names.length).toBeGreaterThanOrEqual(9);
  });

  it.each(names)('%s matches its source cell for cell', (name) => {
    expect(compareWithSource(name, join(kSourcesDir, `${name}.md`), join(kNotebooks, `${name}.ipynb`))).toEqual([]);
  });

  it('parses the source format: ```ts blocks are code cells, markers give slide types and tags, other fences stay Markdown', () => {
    const cells = parseSource(
      ['<!-- slide -->', '# Title', '', 'text', '', '```python', 'print(1)', '```', '', '```ts', 'const a = 1;', '```', '', '<!-- fragment nondeterministic -->', '```ts', '%timeit a', '```', 'after'].join('\n'),
      'x',
    ) as Cell[];
    expect(cells.map((c) => [c.cell_type, c.source.join(''), c.metadata])).toEqual([
      ['markdown', '# Title\n\ntext\n\n```python\nprint(1)\n```', { slideshow: { slide_type: 'slide' } }],
      ['code', 'const a = 1;', { slideshow: { slide_type: '-' } }],
      ['code', '%timeit a', { slideshow: { slide_type: 'fragment' }, tags: ['nondeterministic'] }],
      ['markdown', 'after', { slideshow: { slide_type: '-' } }],
    ]);
    expect(cells.map((c) => c.id)).toEqual(['x-00', 'x-01', 'x-02', 'x-03']);
    // Markers on consecutive lines describe one cell: its slide type and its tags.
    const merged = parseSource('<!-- subslide -->\n<!-- - nondeterministic -->\n```ts\n1\n```', 'm') as Cell[];
    expect(merged.map((c) => c.metadata)).toEqual([{ slideshow: { slide_type: 'subslide' }, tags: ['nondeterministic'] }]);
    expect(() => parseSource('```ts\nconst a = 1;\n', 'y')).toThrow(/never closed/);
  });

  it('writes notebooks for the TypeScript (parallel) kernel', () => {
    const nb = notebookFromSource('```ts\n1\n```', 'z');
    expect(nb).toMatchObject({ nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'tslab-parallel', language: 'typescript' } } });
  });
});

describe('slides', () => {
  it.each(names)('%s: every cell has a slide type, the first is a slide, and there are several slides', (name) => {
    const cells = committed(name).cells as Cell[];
    const types = cells.map((c) => (c.metadata.slideshow as Json | undefined)?.slide_type);
    expect(types.every((t) => ['slide', 'subslide', 'fragment', 'skip', 'notes', '-'].includes(t as string))).toBe(true);
    expect(types[0]).toBe('slide');
    expect(types.filter((t) => t === 'slide').length).toBeGreaterThanOrEqual(2);
  });
});

describe('committed outputs', () => {
  it.each(names)('%s: every code cell was executed, with no errors, and shows the lecture’s results', (name) => {
    const nb = new ExecutedNotebook(name, committed(name));
    checkCommon(nb);
    checks[name]?.(nb);
  });

  it('every lecture has its checks', () => {
    expect(Object.keys(checks).sort()).toEqual(names);
  });

  it('nondeterministic tags mark only code cells', () => {
    for (const name of names) {
      for (const c of committed(name).cells as Cell[]) {
        if (((c.metadata.tags as string[] | undefined) ?? []).includes(kNondeterministic)) expect(c.cell_type, name).toBe('code');
      }
    }
  });
});

describe('the up-to-date comparison', () => {
  const find = (nb: Json, needle: string) => (nb.cells as Cell[]).find((c) => c.cell_type === 'code' && c.source.join('').includes(needle))!;

  it('finds no difference between a notebook and itself', () => {
    for (const name of names) expect(differences(committed(name), committed(name)), name).toEqual([]);
  });

  it('fails on a changed integral (a deterministic output)', () => {
    const nb = committed('03-partial-and-integrators');
    const changed = clone(nb);
    const cell = find(changed, "console.log('integral is', sum(outV1))");
    const out = cell.outputs![0]!;
    out.text = (out.text as string[]).map((l) => l.replace('1.7182818284612678', '1.7182818284612679'));
    expect((out.text as string[]).join('')).toContain('1.7182818284612679');
    expect(differences(nb, changed)).toHaveLength(1);
  });

  it('fails on a removed race warning', () => {
    const nb = committed('04-races-and-reductions');
    const changed = clone(nb);
    const cell = find(changed, 'function assign(n: number)');
    expect(cell.outputs!.map((o) => o.name)).toEqual(['stderr']);
    cell.outputs = [];
    expect(differences(nb, changed)).toHaveLength(1);
  });

  it('fails on a changed figure (its data) and on a changed table', () => {
    const nb = committed('08-trivial-parallelism');
    const fig = clone(nb);
    const hist = find(fig, "type: 'histogram', x: estimates").outputs![0]!;
    ((hist.data as Json)['application/vnd.plotly.v1+json'] as { data: { x: number[] }[] }).data[0]!.x[0]! += 1e-9;
    expect(differences(nb, fig)).toHaveLength(1);
    const table = clone(nb);
    const members = find(table, 'const members = fs.readdirSync').outputs![0]!;
    (members.data as Json)['text/html'] = ((members.data as Json)['text/html'] as string[]).map((l) => l.replace('3.142644', '3.142645'));
    expect(differences(nb, table)).toHaveLength(1);
  });

  it('ignores another winner of a race, and other timings, in a nondeterministic cell', () => {
    const nb = committed('04-races-and-reductions');
    const changed = clone(nb);
    const runs = find(changed, "console.log('after the loop, val is'");
    expect(runs.metadata.tags).toContain(kNondeterministic);
    const lines = (runs.outputs![0]!.text as string[]).map((l) => (l.includes('32767') ? l.replace('32767', '65535') : l.replace('65535', '32767')));
    runs.outputs![0]!.text = lines.reverse();
    const timed = find(changed, '%timeit -n 10 -r 3 addCritical(n)');
    timed.outputs![0]!.text = ['123 ms ± 4.56 ms per loop (mean ± std. dev. of 3 runs, 100 loops each)\n'];
    expect(differences(nb, changed)).toEqual([]);
  });

  it('fails when a nondeterministic cell loses a line, gains an error, or a figure loses a trace', () => {
    const nb = committed('04-races-and-reductions');
    const fewer = clone(nb);
    const runs = find(fewer, "console.log('after the loop, val is'");
    runs.outputs![0]!.text = (runs.outputs![0]!.text as string[]).slice(1);
    expect(differences(nb, fewer)).toHaveLength(1);
    const failing = clone(nb);
    find(failing, '%timeit -n 20 -r 3 addAtomic(n)').outputs!.push({ output_type: 'error', ename: 'RangeError', evalue: 'x', traceback: [] });
    expect(differences(nb, failing)).toHaveLength(1);
    const traces = clone(nb);
    const hist = find(traces, 'const winners = Array.from').outputs!.find((o) => o.output_type === 'display_data')!;
    ((hist.data as Json)['application/vnd.plotly.v1+json'] as { data: unknown[] }).data.pop();
    expect(differences(nb, traces)).toHaveLength(1);
  });

  it('masks timings, pids and figure ids in deterministic cells', () => {
    expect(maskTimings('6.94 ms ± 234 µs per loop; real\t0m0.913s; 1min 3.2 s')).toBe('<time> ± <time> per loop; real\t0m<time>; <time>');
    const nb = committed('02-pool');
    const changed = clone(nb);
    const status = find(changed, '%pool 4');
    status.outputs![0]!.text = (status.outputs![0]!.text as string[]).map((l) => l.replace(/pid \d+/, 'pid 99999'));
    const figureCell = (changed.cells as Cell[]).find((c) => c.outputs?.some((o) => JSON.stringify(o).includes('tsp-plotly-')))!;
    for (const o of figureCell.outputs!) {
      const html = (o.data as Json | undefined)?.['text/html'] as string[] | undefined;
      if (html) (o.data as Json)['text/html'] = html.map((l) => l.replace(/tsp-plotly-[0-9a-f-]{36}/g, 'tsp-plotly-00000000-0000-0000-0000-000000000000'));
    }
    expect(differences(nb, changed)).toEqual([]);
  });

  it('embeds plotly.js once per notebook that has figures (in its first figure), not in every figure', () => {
    for (const name of names) {
      const nb = new ExecutedNotebook(name, committed(name));
      const withLibrary = nb.cells.flatMap((c) => c.htmls).filter((h) => h.length > 1_000_000 && h.includes('Plotly')).length;
      expect(withLibrary, name).toBe(nb.figures.length > 0 ? 1 : 0);
    }
  });
});
