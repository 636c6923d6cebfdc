/** Types for scripts/notebooks.mjs (the lecture notebooks' generator), for the tests that import it. */
export interface GeneratedCell {
  cell_type: 'markdown' | 'code';
  id: string;
  metadata: { slideshow: { slide_type: string }; tags?: string[] };
  source: string[];
  execution_count?: null;
  outputs?: [];
}
export interface GeneratedNotebook {
  nbformat: 4;
  nbformat_minor: 5;
  metadata: Record<string, unknown>;
  cells: GeneratedCell[];
}
export const kRoot: string;
export const kNotebooksDir: string;
export const kSourcesDir: string;
export function parseSource(text: string, name?: string): GeneratedCell[];
export function notebookFromSource(text: string, name: string): GeneratedNotebook;
export function sources(only?: readonly string[]): [name: string, path: string][];
export function cellShape(cell: { cell_type: string; id?: string; source: string | string[]; metadata?: Record<string, unknown> }): {
  cell_type: string;
  id?: string;
  source: string;
  metadata: Record<string, unknown>;
};
export function compareWithSource(name: string, sourcePath: string, notebookPath: string): string[];
