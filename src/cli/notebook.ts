/** nbformat 4 notebooks: reading, writing, and building a cell's outputs from iopub messages. */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Message } from '../protocol/messages.js';

export type MultilineString = string | string[];

export interface Output {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error';
  [key: string]: unknown;
}

export interface Cell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: MultilineString;
  metadata: Record<string, unknown>;
  outputs?: Output[];
  execution_count?: number | null;
  id?: string;
  attachments?: unknown;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: Cell[];
}

export function readNotebook(path: string): Notebook {
  const nb = JSON.parse(readFileSync(path, 'utf8')) as Notebook;
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) throw new Error(`${path} is not an nbformat 4 notebook`);
  return nb;
}

/** Writes a notebook as Jupyter does: one-space indent, sorted keys, trailing newline. */
export function writeNotebook(path: string, nb: Notebook): void {
  writeFileSync(path, JSON.stringify(sortKeys(nb), null, 1) + '\n');
}

export function sourceText(s: MultilineString): string {
  return Array.isArray(s) ? s.join('') : s;
}

/** Splits text into lines as nbformat stores them (each line keeps its newline). */
export function toMultiline(text: string): string[] {
  return text.split(/(?<=\n)/).filter((l) => l !== '');
}

/** Accumulates a cell's outputs from iopub messages, as nbclient does (display ids updated in place). */
export class OutputCollector {
  readonly outputs: Output[] = [];
  #clearPending = false;
  readonly #byDisplayId = new Map<string, Output[]>();

  add(msg: Message): void {
    const c = msg.content as Record<string, unknown>;
    const type = msg.header.msg_type;
    if (type === 'clear_output') {
      if (c.wait) this.#clearPending = true;
      else this.outputs.length = 0;
      return;
    }
    if (type === 'update_display_data') {
      const id = (c.transient as { display_id?: string } | undefined)?.display_id;
      for (const out of (id && this.#byDisplayId.get(id)) || []) {
        out.data = bundle(c.data);
        out.metadata = c.metadata ?? {};
      }
      return;
    }
    let out: Output | undefined;
    if (type === 'stream') out = { output_type: 'stream', name: c.name, text: c.text };
    else if (type === 'display_data') out = { output_type: 'display_data', data: bundle(c.data), metadata: c.metadata ?? {} };
    else if (type === 'execute_result') out = { output_type: 'execute_result', data: bundle(c.data), metadata: c.metadata ?? {}, execution_count: c.execution_count };
    else if (type === 'error') out = { output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback };
    if (!out) return;
    if (this.#clearPending) {
      this.outputs.length = 0;
      this.#clearPending = false;
    }
    const last = this.outputs[this.outputs.length - 1];
    if (out.output_type === 'stream' && last?.output_type === 'stream' && last.name === out.name) {
      last.text = String(last.text) + String(out.text);
    } else {
      this.outputs.push(out);
    }
    const id = (c.transient as { display_id?: string } | undefined)?.display_id;
    if (id && type === 'display_data') this.#byDisplayId.set(id, [...(this.#byDisplayId.get(id) ?? []), out]);
  }

  /** Outputs in nbformat's stored form (multi-line strings as lists of lines). */
  stored(): Output[] {
    return this.outputs.map((o) => {
      if (o.output_type === 'stream') return { ...o, text: toMultiline(String(o.text)) };
      if (o.data) return { ...o, data: storedBundle(o.data as Record<string, unknown>) };
      return o;
    });
  }
}

function bundle(data: unknown): Record<string, unknown> {
  return { ...(data as Record<string, unknown>) };
}

function storedBundle(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [mime, value] of Object.entries(data)) {
    const isText = typeof value === 'string' && (mime.startsWith('text/') || mime === 'image/svg+xml');
    out[mime] = isText ? toMultiline(value) : value;
  }
  return out;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}
