/**
 * Where displays go. The kernel installs its sink; outside a kernel the default prints the
 * text/plain part. Kept on globalThis under a Symbol.for key so that every copy of this package
 * in a process (a cell's `require('tslab-parallel')`, a library's own copy) uses the same one.
 */
import type { DisplaySink, MimeBundle } from './types.js';

const kSink = Symbol.for('tslab-parallel.displaySink');

const consoleSink: DisplaySink = {
  display(bundle: MimeBundle) {
    const text = bundle['text/plain'];
    if (typeof text === 'string') process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  },
  update(bundle: MimeBundle) {
    consoleSink.display(bundle, {}, undefined);
  },
};

export function currentSink(): DisplaySink {
  return (globalThis as unknown as Record<symbol, DisplaySink | undefined>)[kSink] ?? consoleSink;
}

/** Installs `sink` (the kernel does this once) and returns a function that restores the previous one. */
export function installSink(sink: DisplaySink): () => void {
  const g = globalThis as unknown as Record<symbol, DisplaySink | undefined>;
  const previous = g[kSink];
  g[kSink] = sink;
  return () => {
    g[kSink] = previous;
  };
}
