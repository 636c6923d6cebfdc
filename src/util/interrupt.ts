/**
 * Interrupt notifications for libraries that cells call directly (a pool, a thread team,
 * ranks). They cannot import the kernel (layers never point up), so the kernel announces each
 * interrupt here and they stop their work. The bus is a slot of the process context
 * (process-context.ts): the kernel's context while it is attached, the default one otherwise.
 *
 * Outside a kernel nothing ever fires: plain Node programs stop with SIGINT as usual.
 */
import { currentContext, defineSlot, type ProcessContext } from './process-context.js';

type Listener = () => void;

const kInterruptBus = defineSlot('util.interruptListeners', () => new Set<Listener>(), (listeners) => listeners.clear());

/** Calls `listener` on every kernel interrupt until the returned function is called. */
export function onKernelInterrupt(listener: Listener, context: ProcessContext = currentContext()): () => void {
  const listeners = context.get(kInterruptBus);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** How many listeners the context's bus holds (tests: nothing is left subscribed). */
export function interruptListenerCount(context: ProcessContext = currentContext()): number {
  return context.peek(kInterruptBus)?.size ?? 0;
}

/** Called by the kernel after it has stopped the running cell. Listener errors are reported, not thrown. */
export function notifyKernelInterrupt(context: ProcessContext = currentContext()): Error[] {
  const errors: Error[] = [];
  for (const listener of [...(context.peek(kInterruptBus) ?? [])]) {
    try {
      listener();
    } catch (err) {
      errors.push(err instanceof Error ? err : new Error(String(err)));
    }
  }
  return errors;
}
