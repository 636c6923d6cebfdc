/**
 * Everything the kernel process writes to stdout and stderr — console.log in cells, output
 * that Node forwards from worker threads — becomes stream output of the cell that is running.
 * The kernel's own log lines are written to file descriptor 2 directly and are not captured.
 */
type Write = typeof process.stdout.write;

export class OutputCapture {
  readonly #onText: (name: 'stdout' | 'stderr', text: string) => void;
  #restore: (() => void) | null = null;

  constructor(onText: (name: 'stdout' | 'stderr', text: string) => void) {
    this.#onText = onText;
  }

  install(): void {
    if (this.#restore) return;
    const out = process.stdout.write;
    const err = process.stderr.write;
    process.stdout.write = this.#writer('stdout');
    process.stderr.write = this.#writer('stderr');
    this.#restore = () => {
      process.stdout.write = out;
      process.stderr.write = err;
    };
  }

  uninstall(): void {
    this.#restore?.();
    this.#restore = null;
  }

  #writer(name: 'stdout' | 'stderr'): Write {
    const onText = this.#onText;
    return function write(chunk: unknown, encodingOrCallback?: unknown, callback?: unknown): boolean {
      const encoding = typeof encodingOrCallback === 'string' ? (encodingOrCallback as BufferEncoding) : 'utf8';
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(encoding);
      if (text) onText(name, text);
      const cb = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
      if (typeof cb === 'function') process.nextTick(cb as () => void);
      return true;
    } as Write;
  }
}
