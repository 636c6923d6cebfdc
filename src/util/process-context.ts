/**
 * The process context: the one owner of process-wide state (the interrupt bus, the display sink,
 * the notebook definitions, the parallel runtime, the world communicator, worker identity, the
 * trace, shell jobs). Each owner declares its slot in its own file with `defineSlot(name, create,
 * dispose)`; a context creates a slot's value on first use and disposes the values in reverse
 * order of creation.
 *
 * The kernel creates a context in attach, makes it current and disposes it in detach. Everywhere
 * else (a plain Node program, a pool worker, a rank, a team thread) the default context is
 * current, so pool, parallel and comm work without a kernel. Libraries take a context as an
 * option and otherwise use `currentContext()`.
 *
 * The package's one process-wide slot on the global object (global-object.ts) holds the current
 * and the default context. Every copy of the package loaded in one process (a cell's
 * require('tslab-parallel'), a script's own install) thus sees the same context; slots are
 * matched by name, not by object, for the same reason.
 */
import { sharedGlobal } from './global-object.js';

export interface Slot<T> {
  readonly name: string;
  readonly create: (context: ProcessContext) => T;
  readonly dispose?: (value: T) => void;
}

/** Declares a slot; `name` is unique in the package ("area.what"). */
export function defineSlot<T>(name: string, create: (context: ProcessContext) => T, dispose?: (value: T) => void): Slot<T> {
  return dispose ? { name, create, dispose } : { name, create };
}

interface Entry {
  value: unknown;
  dispose: ((value: unknown) => void) | undefined;
}

export class ProcessContext {
  readonly #entries = new Map<string, Entry>();
  #disposed = false;

  /** The slot's value, created on first use. */
  get<T>(slot: Slot<T>): T {
    const entry = this.#entries.get(slot.name);
    if (entry) return entry.value as T;
    const value = slot.create(this);
    this.#entries.set(slot.name, { value, dispose: slot.dispose as Entry['dispose'] });
    return value;
  }

  /** The slot's value if it was created or set, without creating it. */
  peek<T>(slot: Slot<T>): T | undefined {
    return this.#entries.get(slot.name)?.value as T | undefined;
  }

  /** Replaces the slot's value; the returned function puts the previous one back. */
  set<T>(slot: Slot<T>, value: T): () => void {
    const previous = this.#entries.get(slot.name);
    this.#entries.set(slot.name, { value, dispose: previous?.dispose ?? (slot.dispose as Entry['dispose']) });
    return () => {
      if (previous) this.#entries.set(slot.name, previous);
      else this.#entries.delete(slot.name);
    };
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Disposes every value, last created first; returns the errors of those that failed. */
  dispose(): Error[] {
    const errors: Error[] = [];
    if (this.#disposed) return errors;
    this.#disposed = true;
    for (const [, entry] of [...this.#entries].reverse()) {
      try {
        entry.dispose?.(entry.value);
      } catch (err) {
        errors.push(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.#entries.clear();
    return errors;
  }
}

/** A context made by any copy of this package (instanceof would tell copies apart). */
export function isProcessContext(value: unknown): value is ProcessContext {
  const v = value as Partial<Record<'get' | 'peek' | 'set' | 'dispose', unknown>> | null;
  return typeof v === 'object' && v !== null && ['get', 'peek', 'set', 'dispose'].every((k) => typeof v[k as 'get'] === 'function');
}

interface Contexts {
  readonly fallback: ProcessContext;
  current: ProcessContext | undefined;
}

function contexts(): Contexts {
  return sharedGlobal<Contexts>('processContext', () => ({ fallback: new ProcessContext(), current: undefined }));
}

/** The context libraries use when they are given none: the kernel's while attached, else the default. */
export function currentContext(): ProcessContext {
  const c = contexts();
  return c.current ?? c.fallback;
}

/** The process's default context (no kernel). */
export function defaultContext(): ProcessContext {
  return contexts().fallback;
}

/** Makes `context` current (the kernel, in attach); the returned function restores the previous one. */
export function enterContext(context: ProcessContext): () => void {
  const c = contexts();
  const previous = c.current;
  c.current = context;
  return () => {
    if (c.current === context) c.current = previous;
  };
}
