/**
 * Shell commands that failed in a notebook's cells, read back from the outputs the kernel
 * wrote: `!cmd` reports a non-zero exit on stderr as `[command exited with code N: cmd]` and
 * carries on, `%%sh --no-raise` as `[exit code N]`, plain `%%sh` fails the cell with a
 * ShellCommandError (the first two are written by src/kernel/kernel.ts and src/magics/sh.ts;
 * test/run-shell-failures.test.ts fails if they change). The runner counts them, so a notebook
 * whose `!parallel …` printed `command not found` is not reported as simply `ok`.
 */
import { sourceText, type Cell } from './notebook.js';

export interface ShellFailures {
  readonly count: number;
  /** The most telling line of the first failure, e.g. `parallel: command not found`. */
  readonly example?: string;
}

const kExitNote = /\[(?:command exited with code [^:\]]+: .*|exit code [^\]]+)\]$/gm;
/** bash's own line for a missing program: `bash: line 1: parallel: command not found`. */
const kNotFound = /^(?:\/bin\/)?(?:ba)?sh: (?:line \d+: )?(.+: (?:command not found|No such file or directory))$/m;

export function shellFailures(cells: readonly Cell[]): ShellFailures {
  let count = 0;
  let example: string | undefined;
  for (const cell of cells) {
    for (const out of cell.outputs ?? []) {
      let notes: string[] = [];
      let text = '';
      if (out.output_type === 'stream') {
        text = sourceText(out.text as string | string[]);
        notes = text.match(kExitNote) ?? [];
      } else if (out.output_type === 'error' && out.ename === 'ShellCommandError') {
        notes = [String(out.evalue)];
      }
      if (notes.length === 0) continue;
      count += notes.length;
      example ??= cellText(cell).match(kNotFound)?.[1] ?? notes[0].replace(/^\[|\]$/g, '');
    }
  }
  return { count, example };
}

/** All stream text of a cell: bash's complaint may be on stdout (`2>&1`) or stderr. */
function cellText(cell: Cell): string {
  return (cell.outputs ?? [])
    .filter((o) => o.output_type === 'stream')
    .map((o) => sourceText(o.text as string | string[]))
    .join('');
}

export function describeShellFailures(f: ShellFailures): string {
  const what = `${f.count} shell command${f.count === 1 ? '' : 's'} failed`;
  return f.example ? `${what}, e.g. '${f.example}'` : what;
}
