/**
 * Redirects the worker's process.stdout/stderr (and so console.*) to a callback, so that the
 * pool can forward task output live, each line prefixed with the worker. Writes by native code
 * to fd 1/2 are not captured (the processes backend forwards its pipes for those).
 */
export type OutputSink = (stream: 'stdout' | 'stderr', text: string) => void;

export function captureOutput(sink: OutputSink): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    const target = process[stream];
    const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      if (text.length > 0) sink(stream, text);
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
      return true;
    };
    (target as unknown as { write: typeof write }).write = write;
  }
}
