/**
 * Task output, forwarded live: whole lines, each prefixed with the worker that printed it
 * (`[worker 3] working on 7`). A partial line is held until its newline arrives or the batch
 * that printed it ends.
 */

/** Receives `text`: one or more whole lines, each prefixed `[worker N] `. */
export type OutputCallback = (text: string, stream: 'stdout' | 'stderr', worker: number) => void;

/** Default: the current process.stdout/stderr (looked up at each write, so a kernel that captures them per cell sees it). */
export const writeToProcess: OutputCallback = (text, stream) => {
  (stream === 'stdout' ? process.stdout : process.stderr).write(text);
};

export class LineAssembler {
  readonly #partial = { stdout: '', stderr: '' };

  constructor(
    private readonly worker: number,
    private readonly emit: OutputCallback,
  ) {}

  write(stream: 'stdout' | 'stderr', text: string): void {
    const all = this.#partial[stream] + text;
    const end = all.lastIndexOf('\n');
    if (end < 0) {
      this.#partial[stream] = all;
      return;
    }
    this.#partial[stream] = all.slice(end + 1);
    this.#send(stream, all.slice(0, end + 1));
  }

  /** Emits held partial lines (end of a batch, worker lost). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.#partial[stream];
      if (rest) {
        this.#partial[stream] = '';
        this.#send(stream, `${rest}\n`);
      }
    }
  }

  #send(stream: 'stdout' | 'stderr', lines: string): void {
    const prefix = `[worker ${this.worker}] `;
    const text = prefix + lines.slice(0, -1).split('\n').join(`\n${prefix}`) + '\n';
    try {
      this.emit(text, stream, this.worker);
    } catch {
      // An output callback that throws must not break the pool.
    }
  }
}
