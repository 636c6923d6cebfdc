/**
 * Text edits that keep every line where it was. The compiled cell must report errors and
 * warnings at the user's own line numbers, so a replacement never adds a line break and a
 * replaced range that spanned lines is followed by the same number of line breaks.
 */
interface Edit {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly order: number;
}

export class LineKeepingEditor {
  readonly #source: string;
  readonly #edits: Edit[] = [];

  constructor(source: string) {
    this.#source = source;
  }

  replace(start: number, end: number, text: string): void {
    if (text.includes('\n')) throw new Error('internal: generated code must stay on one line');
    const removedBreaks = countLineBreaks(this.#source.slice(start, end));
    this.#edits.push({ start, end, text: text + '\n'.repeat(removedBreaks), order: this.#edits.length });
  }

  insert(position: number, text: string): void {
    this.replace(position, position, text);
  }

  apply(): string {
    const edits = [...this.#edits].sort((a, b) => a.start - b.start || a.end - b.end || a.order - b.order);
    let out = '';
    let cursor = 0;
    for (const edit of edits) {
      if (edit.start < cursor) throw new Error('internal: overlapping edits');
      out += this.#source.slice(cursor, edit.start) + edit.text;
      cursor = edit.end;
    }
    return out + this.#source.slice(cursor);
  }
}

export function countLineBreaks(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
