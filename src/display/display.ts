/**
 * The `display` API of cells: `display(value)`, `display.html(…)`, `display.plotly(fig)`, and
 * handles whose output can be replaced in place (update_display_data).
 */
import { randomUUID } from 'node:crypto';
import { Rich, toMimeBundle } from './bundle.js';
import { plotly } from './plotly.js';
import { currentSink } from './sink.js';
import { kNoResult, type DisplayHandle, type DisplayOptions, type MimeBundle } from './types.js';
import { table } from './table.js';

/** Shows a bundle as a new output and returns a handle to update it. */
export function displayBundle(bundle: MimeBundle, options: DisplayOptions = {}): DisplayHandle {
  const id = options.id ?? randomUUID();
  currentSink().display(bundle, options.metadata ?? {}, id);
  return {
    id,
    [kNoResult]: true as const,
    update(value: unknown, updateOptions?: { metadata?: Record<string, unknown> }) {
      currentSink().update(toMimeBundle(value), updateOptions?.metadata ?? {}, id);
    },
  };
}

function show(value: unknown, options?: DisplayOptions): DisplayHandle {
  return displayBundle(toMimeBundle(value), options);
}

const base64 = (data: Uint8Array | string): string => (typeof data === 'string' ? data : Buffer.from(data).toString('base64'));

/** Rich values: each returns something that displays as its type when shown or returned by a cell. */
export const rich = {
  html: (html: string) => new Rich({ 'text/html': html, 'text/plain': html }),
  markdown: (md: string) => new Rich({ 'text/markdown': md, 'text/plain': md }),
  json: (value: unknown) => new Rich({ 'application/json': value as object, 'text/plain': JSON.stringify(value, null, 2) }),
  svg: (svg: string) => new Rich({ 'image/svg+xml': svg, 'text/plain': '<SVG image>' }),
  png: (data: Uint8Array | string) => new Rich({ 'image/png': base64(data), 'text/plain': '<PNG image>' }),
  jpeg: (data: Uint8Array | string) => new Rich({ 'image/jpeg': base64(data), 'text/plain': '<JPEG image>' }),
  latex: (tex: string) => new Rich({ 'text/latex': tex, 'text/plain': tex }),
  text: (text: string) => new Rich({ 'text/plain': text }),
  plotly,
  table,
};

type Shower<A extends unknown[]> = (...args: A) => DisplayHandle;
const shower = <A extends unknown[]>(make: (...args: A) => Rich): Shower<A> => (...args: A) => show(make(...args));

export interface DisplayFunction {
  (value: unknown, options?: DisplayOptions): DisplayHandle;
  html: Shower<[string]>;
  markdown: Shower<[string]>;
  json: Shower<[unknown]>;
  svg: Shower<[string]>;
  png: Shower<[Uint8Array | string]>;
  jpeg: Shower<[Uint8Array | string]>;
  latex: Shower<[string]>;
  text: Shower<[string]>;
  plotly: Shower<Parameters<typeof plotly>>;
  table: Shower<Parameters<typeof table>>;
  /** Shows an output that can be updated later: `const h = display.handle('starting…'); h.update('done')`. */
  handle(initial?: unknown): DisplayHandle;
}

export const display: DisplayFunction = Object.assign(show, {
  html: shower(rich.html),
  markdown: shower(rich.markdown),
  json: shower(rich.json),
  svg: shower(rich.svg),
  png: shower(rich.png),
  jpeg: shower(rich.jpeg),
  latex: shower(rich.latex),
  text: shower(rich.text),
  plotly: shower(plotly),
  table: shower(table),
  handle: (initial: unknown = '') => show(initial),
});
