#!/usr/bin/env node
/**
 * The lecture notebooks are written as Markdown (notebooks/src/NN-name.md) and generated into
 * notebooks/NN-name.ipynb by this script; `tslab-parallel run` then executes them in place, so
 * the committed notebooks carry their outputs.
 *
 *   node scripts/notebooks.mjs            write every notebooks/*.ipynb from its source (no outputs)
 *   node scripts/notebooks.mjs --check    exit 1 if a committed notebook's cells differ from its source
 *   node scripts/notebooks.mjs NAME...    only these sources (e.g. 03-partial-and-integrators)
 *
 * Source format: plain Markdown that reads well on its own.
 *   - A fenced block opened with exactly ```ts is a code cell (magics included); any other fence
 *     (```python, ```c, ```sh) stays in the Markdown around it.
 *   - Markdown between code cells is one Markdown cell.
 *   - A marker line `<!-- KIND [tag ...] -->` starts a new cell and gives it its slide type
 *     (KIND: slide, subslide, fragment, skip, notes, or - for "same slide") and cell tags.
 *     Cells without a marker are "-". Markers on consecutive lines describe the same cell.
 *   - The tag `nondeterministic` tells the notebook tests that the cell's output varies from run
 *     to run (timings, races, which worker ran what): they compare its structure, not its values.
 *
 * The regenerated notebooks have no outputs: execute them (npm run notebooks does both steps).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const kRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const kNotebooksDir = join(kRoot, 'notebooks');
export const kSourcesDir = join(kNotebooksDir, 'src');

const kMarker = /^<!--\s*(slide|subslide|fragment|skip|notes|-)((?:\s+[\w-]+)*)\s*-->\s*$/;

const kNotebookMetadata = {
  kernelspec: { name: 'tslab-parallel', display_name: 'TypeScript (parallel)', language: 'typescript' },
  language_info: { name: 'typescript', file_extension: '.ts', mimetype: 'text/typescript' },
};

/** Splits text into nbformat's stored lines (each keeps its newline). */
function lines(text) {
  return text.split(/(?<=\n)/).filter((l) => l !== '');
}

/** Parses one source file into nbformat 4.5 cells. Throws on a malformed source, with its line. */
export function parseSource(text, name = 'notebook') {
  const cells = [];
  let pending = { slide: '-', tags: [] };
  let markdown = [];
  const src = text.replace(/\r\n/g, '\n').split('\n');

  const push = (cell_type, body) => {
    const source = body.join('\n').replace(/^\n+|\n+$/g, '');
    if (source === '') return false;
    const metadata = { slideshow: { slide_type: pending.slide } };
    if (pending.tags.length) metadata.tags = [...pending.tags];
    const cell = { cell_type, id: `${name.replace(/[^A-Za-z0-9-]/g, '-')}-${String(cells.length).padStart(2, '0')}`, metadata, source: lines(source) };
    if (cell_type === 'code') Object.assign(cell, { execution_count: null, outputs: [] });
    cells.push(cell);
    pending = { slide: '-', tags: [] };
    return true;
  };
  const flushMarkdown = () => {
    push('markdown', markdown);
    markdown = [];
  };

  for (let i = 0; i < src.length; i++) {
    const line = src[i];
    const marker = kMarker.exec(line);
    if (marker) {
      const slide = marker[1];
      const tags = marker[2].trim().split(/\s+/).filter(Boolean);
      if (markdown.join('').trim() === '') {
        // Markers in a row describe one cell: `<!-- subslide -->` then `<!-- - nondeterministic -->`.
        markdown = [];
        pending = { slide: slide !== '-' ? slide : pending.slide, tags: [...new Set([...pending.tags, ...tags])] };
      } else {
        flushMarkdown();
        pending = { slide, tags };
      }
      continue;
    }
    if (line === '```ts') {
      const body = [];
      const start = i + 1;
      for (i++; i < src.length && src[i] !== '```'; i++) body.push(src[i]);
      if (i >= src.length) throw new Error(`${name}: line ${start}: the \`\`\`ts block is never closed`);
      const before = pending;
      if (markdown.join('').trim() !== '') {
        // Markdown right before a code cell is its own cell; the marker belonged to that Markdown.
        flushMarkdown();
        pending = { slide: '-', tags: [] };
      } else {
        markdown = [];
        pending = before;
      }
      if (!push('code', body)) throw new Error(`${name}: line ${start}: empty code cell`);
      continue;
    }
    if (/^```/.test(line)) {
      // Another fenced block: Markdown, copied through to its closing fence.
      markdown.push(line);
      for (i++; i < src.length; i++) {
        markdown.push(src[i]);
        if (src[i] === '```') break;
      }
      continue;
    }
    markdown.push(line);
  }
  flushMarkdown();
  return cells;
}

export function notebookFromSource(text, name) {
  return { nbformat: 4, nbformat_minor: 5, metadata: structuredClone(kNotebookMetadata), cells: parseSource(text, name) };
}

/** The sources, as [name, path] (name: the file name without .md). */
export function sources(only = []) {
  const all = readdirSync(kSourcesDir).filter((f) => f.endsWith('.md')).sort();
  const picked = only.length ? all.filter((f) => only.some((o) => f === o || f === `${o}.md` || f.startsWith(o))) : all;
  if (only.length && picked.length === 0) throw new Error(`no source matches ${only.join(', ')} in ${kSourcesDir}`);
  return picked.map((f) => [basename(f, '.md'), join(kSourcesDir, f)]);
}

/** What the sync check compares: each cell's type, id, source and metadata (slide type, tags). */
export function cellShape(cell) {
  const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
  const { execution, ...metadata } = cell.metadata ?? {};
  return { cell_type: cell.cell_type, id: cell.id, source, metadata };
}

/** Differences between a committed notebook and its source, as readable lines (empty: in sync). */
export function compareWithSource(name, sourcePath, notebookPath) {
  if (!existsSync(notebookPath)) return [`${name}: ${notebookPath} is missing (run node scripts/notebooks.mjs)`];
  const expected = notebookFromSource(readFileSync(sourcePath, 'utf8'), name).cells.map(cellShape);
  const actual = JSON.parse(readFileSync(notebookPath, 'utf8')).cells.map(cellShape);
  const problems = [];
  if (expected.length !== actual.length) problems.push(`${name}: ${actual.length} cells in the notebook, ${expected.length} in the source`);
  for (let i = 0; i < Math.min(expected.length, actual.length); i++) {
    if (JSON.stringify(expected[i]) !== JSON.stringify(actual[i])) {
      problems.push(`${name}: cell ${i} differs from the source:\n  source:   ${JSON.stringify(expected[i]).slice(0, 300)}\n  notebook: ${JSON.stringify(actual[i]).slice(0, 300)}`);
      break;
    }
  }
  return problems;
}

/** Writes a notebook as Jupyter and `tslab-parallel run` do: one-space indent, sorted keys. */
function writeNotebook(path, nb) {
  const sortKeys = (v) =>
    Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v;
  writeFileSync(path, JSON.stringify(sortKeys(nb), null, 1) + '\n');
}

function main(argv) {
  const check = argv.includes('--check');
  const only = argv.filter((a) => !a.startsWith('--'));
  let failed = 0;
  for (const [name, path] of sources(only)) {
    const out = join(kNotebooksDir, `${name}.ipynb`);
    if (check) {
      const problems = compareWithSource(name, path, out);
      for (const p of problems) console.error(p);
      if (problems.length) failed++;
      else console.log(`${name}: in sync`);
    } else {
      writeNotebook(out, notebookFromSource(readFileSync(path, 'utf8'), name));
      console.log(`${name}: wrote ${out} (no outputs yet: execute it with tslab-parallel run)`);
    }
  }
  if (check && failed) console.error(`${failed} notebook(s) out of sync with notebooks/src: run node scripts/notebooks.mjs, then execute them`);
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
