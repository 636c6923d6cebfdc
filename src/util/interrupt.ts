/**
 * Interrupt notifications for libraries that cells call directly (a pool, a thread team,
 * ranks). They cannot import the kernel (layers never point up), so the kernel announces each
 * interrupt here and they stop their work. The registry hangs off globalThis under a
 * Symbol.for key, so every copy of this package loaded in one process shares it.
 *
 * Outside a kernel nothing ever fires: plain Node programs stop with SIGINT as usual.
 */
type Listener = () => void;

const kListeners = Symbol.for('tslab-parallel.interruptListeners');

function listeners(): Set<Listener> {
  const g = globalThis as unknown as Record<symbol, Set<Listener> | undefined>;
  return (g[kListeners] ??= new Set<Listener>());
}

/** Calls `listener` on every kernel interrupt until the returned function is called. */
export function onKernelInterrupt(listener: Listener): () => void {
  listeners().add(listener);
  return () => listeners().delete(listener);
}

/** Called by the kernel after it has stopped the running cell. Listener errors are reported, not thrown. */
export function notifyKernelInterrupt(): Error[] {
  const errors: Error[] = [];
  for (const listener of [...listeners()]) {
    try {
      listener();
    } catch (err) {
      errors.push(err instanceof Error ? err : new Error(String(err)));
    }
  }
  return errors;
}
