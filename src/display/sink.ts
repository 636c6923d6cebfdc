/**
 * Where displays go. The kernel installs its sink in its process context (util/process-context.ts);
 * outside a kernel the default prints the text/plain part.
 */
import type { DisplaySink, MimeBundle } from './types.js';
import { currentContext, defineSlot, type ProcessContext } from '../util/process-context.js';

const consoleSink: DisplaySink = {
  display(bundle: MimeBundle) {
    const text = bundle['text/plain'];
    if (typeof text === 'string') process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  },
  update(bundle: MimeBundle) {
    consoleSink.display(bundle, {}, undefined);
  },
};

const kSinkSlot = defineSlot<DisplaySink>('display.sink', () => consoleSink);

export function currentSink(context: ProcessContext = currentContext()): DisplaySink {
  return context.get(kSinkSlot);
}

/** Installs `sink` (the kernel does this once) and returns a function that restores the previous one. */
export function installSink(sink: DisplaySink, context: ProcessContext = currentContext()): () => void {
  return context.set(kSinkSlot, sink);
}
