/**
 * Executed notebooks in a comparable form: what a reader sees (cell sources, execution counts,
 * outputs), without what differs from run to run (timings, cell ids, execution metadata).
 */
import { readFileSync } from 'node:fs';

type Json = Record<string, unknown>;

export interface NormalisedCell {
  readonly cell_type: string;
  readonly source: string;
  readonly execution_count?: number | null;
  readonly outputs?: Json[];
}

export interface NormalisedNotebook {
  readonly nbformat: number;
  readonly metadata: Json;
  readonly cells: NormalisedCell[];
}

const join = (v: unknown): unknown => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join('') : v);

/** "35.5 ms", "251 µs", "1min 3.2 s" become "<time>" (the %time and %timeit reports). */
export function maskTimings(text: string): string {
  return text.replace(/(?:\d+min )?\d+(?:\.\d+)?\s?(?:min|ms|µs|ns|s)\b/g, '<time>');
}

function normaliseOutput(o: Json): Json {
  const out: Json = { ...o };
  if (typeof join(out.text) === 'string') out.text = maskTimings(join(out.text) as string);
  if (out.data && typeof out.data === 'object') {
    out.data = Object.fromEntries(Object.entries(out.data as Json).map(([mime, v]) => [mime, join(v)]));
  }
  return out;
}

export function normaliseNotebook(nb: Json): NormalisedNotebook {
  const cells = (nb.cells as Json[]).map((c) => {
    const cell: { -readonly [K in keyof NormalisedCell]: NormalisedCell[K] } = { cell_type: String(c.cell_type), source: String(join(c.source)) };
    if (c.cell_type === 'code') {
      cell.execution_count = c.execution_count as number | null;
      cell.outputs = (c.outputs as Json[]).map(normaliseOutput);
    }
    return cell;
  });
  return { nbformat: nb.nbformat as number, metadata: nb.metadata as Json, cells };
}

export function readNormalised(path: string): NormalisedNotebook {
  return normaliseNotebook(JSON.parse(readFileSync(path, 'utf8')) as Json);
}
