/** Rank output: split into whole lines, and prefixed `[rank k]` for the user. */
import type { OutputStream } from './host.js';

/** Collects text and hands it on in whole lines, so lines of different ranks never interleave. */
export class LineBuffer {
  #partial = '';

  /** The complete lines in `text` (with what was left over before), or '' if none yet. */
  push(text: string): string {
    const last = text.lastIndexOf('\n');
    if (last < 0) {
      this.#partial += text;
      return '';
    }
    const lines = this.#partial + text.slice(0, last + 1);
    this.#partial = text.slice(last + 1);
    return lines;
  }

  /** What is left, ended with a newline ('' if nothing). */
  flush(): string {
    const rest = this.#partial;
    this.#partial = '';
    return rest ? rest + '\n' : '';
  }
}

/** `[rank k] ` in front of every line of `text` (whole lines, as RankEvents.output gives them). */
export function prefixLines(rank: number, text: string): string {
  const prefix = `[rank ${rank}] `;
  return prefix + text.slice(0, -1).replaceAll('\n', '\n' + prefix) + text.slice(-1);
}

export type OutputCallback = (rank: number, stream: OutputStream, text: string) => void;

/** Writes each rank's lines to this process's stdout/stderr with the `[rank k]` prefix. */
export const writePrefixed: OutputCallback = (rank, stream, text) => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(prefixLines(rank, text));
};
