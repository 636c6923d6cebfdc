/**
 * Every piece of code the kernel has compiled, by the file name its stack frames carry
 * ("In[3]", "In[3].1" for code a magic compiled while cell 3 ran). Maps frames in generated
 * JavaScript back to the cell's lines — for errors on the kernel, and for errors from workers
 * and ranks, whose frames the shipping layer has already rewritten into these file names.
 */
import type { LineMap } from './source-map.js';

interface CompiledSource {
  readonly map: LineMap;
  /** Lines the wrapper adds above the generated code. */
  readonly wrapperLines: number;
  /** Added to mapped lines: where this code starts in the cell the user typed (0 for a whole cell). */
  readonly lineOffset: number;
  /** How the cell is named to the user. */
  readonly label: string;
  /** The cell's text as the user typed it, to quote the failing line. */
  readonly cellLines: readonly string[];
  /** The full JavaScript as it was run, for locating shipped functions in it. */
  readonly script: string;
}

export interface MappedPosition {
  readonly label: string;
  readonly line: number;
  readonly column: number;
}

const kFrameLocation = /(In\[[^\]\s]*\](?:\.\d+)?):(\d+):(\d+)/g;

export class SourceRegistry {
  readonly #sources = new Map<string, CompiledSource>();

  register(file: string, source: CompiledSource): void {
    this.#sources.set(file, source);
  }

  script(file: string): string | undefined {
    return this.#sources.get(file)?.script;
  }

  /** Maps a 1-based line and column of the running script to the cell. */
  map(file: string, line: number, column: number): MappedPosition | undefined {
    const s = this.#sources.get(file);
    if (!s) return undefined;
    const original = s.map.original(line - s.wrapperLines, column);
    if (!original) return undefined;
    const cellLine = Math.min(original.line + s.lineOffset, Math.max(1, s.cellLines.length));
    return { label: s.label, line: cellLine, column: original.column };
  }

  /** Rewrites every `In[n]:line:col` in a stack to the cell's own line and column. */
  mapStack(stack: string): string {
    return stack.replace(kFrameLocation, (whole, file: string, line: string, col: string) => {
      const m = this.map(file, Number(line), Number(col));
      return m ? `${m.label}:${m.line}:${m.column}` : whole;
    });
  }

  /** The text of line `line` (1-based) of the cell labelled `label`, with its neighbours. */
  excerpt(label: string, line: number, context = 1): { line: number; text: string }[] {
    for (const s of this.#sources.values()) {
      if (s.label !== label) continue;
      const from = Math.max(1, line - context);
      const to = Math.min(s.cellLines.length, line + context);
      const out: { line: number; text: string }[] = [];
      for (let l = from; l <= to; l++) out.push({ line: l, text: s.cellLines[l - 1] });
      return out;
    }
    return [];
  }
}
