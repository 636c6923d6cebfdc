/** Tables from rows of records: an HTML table for notebooks and slides, aligned text for the rest. */
import { Rich } from './bundle.js';

export type Row = Record<string, unknown>;

export interface TableOptions {
  /** Column order; by default the keys of the rows in order of appearance. */
  readonly columns?: readonly string[];
  /** Digits after the point for numbers that are not integers (default: shortest exact form). */
  readonly digits?: number;
  readonly caption?: string;
}

export function table(rows: readonly Row[], options: TableOptions = {}): Rich {
  const columns = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => {
    if (typeof v === 'number' && !Number.isInteger(v) && options.digits !== undefined) return v.toFixed(options.digits);
    return v === undefined ? '' : String(v);
  };
  const body = rows.map((r) => columns.map((c) => cell(r[c])));
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const html =
    '<table class="tsp-table">' +
    (options.caption ? `<caption>${escape(options.caption)}</caption>` : '') +
    `<thead><tr>${columns.map((c) => `<th>${escape(c)}</th>`).join('')}</tr></thead>` +
    `<tbody>${body.map((r) => `<tr>${r.map((v) => `<td>${escape(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((v, i) => v.padStart(widths[i])).join('  ');
  const text = [options.caption ?? '', line(columns), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].filter(Boolean).join('\n');
  return new Rich({ 'text/html': html, 'text/plain': text });
}
