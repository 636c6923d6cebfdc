/** The inputs executed in this kernel session, for history_request (tail, range and search). */

export type HistoryEntry = [session: number, line: number, input: string];
export type HistoryEntryWithOutput = [session: number, line: number, inputOutput: [input: string, output: null]];

export class History {
  readonly #entries: HistoryEntry[] = [];

  add(line: number, input: string): void {
    this.#entries.push([0, line, input]);
  }

  /**
   * Answers a history_request's content with the list of entries it asks for. With `output`,
   * each input becomes an (input, output) pair, as IPython answers; outputs are not kept, so
   * the output is null (IPython's default, without db_log_output).
   */
  query(content: Record<string, unknown>): HistoryEntry[] | HistoryEntryWithOutput[] {
    const found = this.#select(content);
    if (content.output !== true) return found;
    return found.map(([session, line, input]): HistoryEntryWithOutput => [session, line, [input, null]]);
  }

  #select(content: Record<string, unknown>): HistoryEntry[] {
    const n = typeof content.n === 'number' ? content.n : 10;
    switch (content.hist_access_type) {
      case 'range': {
        const start = typeof content.start === 'number' ? content.start : 1;
        const stop = typeof content.stop === 'number' ? content.stop : Infinity;
        return this.#entries.filter(([, line]) => line >= start && line < stop);
      }
      case 'search': {
        const pattern = globToRegExp(String(content.pattern ?? '*'));
        let found = this.#entries.filter(([, , input]) => pattern.test(input));
        if (content.unique) {
          const seen = new Set<string>();
          found = found.reverse().filter(([, , input]) => !seen.has(input) && !!seen.add(input)).reverse();
        }
        return found.slice(-n);
      }
      case 'tail':
      default:
        return this.#entries.slice(-n);
    }
  }
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}
