/**
 * SIGINT for the I/O thread. Jupyter interrupts kernels whose spec says interrupt_mode
 * "signal" (and any user may `kill -INT` one). Node delivers signals to the main thread's event
 * loop only, and that loop is exactly what a runaway cell blocks. libuv, though, delivers a
 * signal to every loop that watches it, so the I/O thread watches SIGINT itself through Node's
 * signal_wrap binding. Where that binding is unavailable, the caller falls back to a main-thread
 * listener (which works whenever main is not stuck).
 */
interface SignalHandle {
  onsignal: (signum: number) => void;
  start(signum: number): number;
  close(): void;
  unref?(): void;
}

const kSIGINT = 2;

/** Returns a stop function, or null when this Node cannot watch signals off the main thread. */
export function watchSigint(onSigint: () => void): (() => void) | null {
  const proc = process as unknown as { binding?: (name: string) => { Signal?: new () => SignalHandle }; noDeprecation?: boolean };
  const quiet = proc.noDeprecation;
  try {
    proc.noDeprecation = true; // the binding is deprecated for user code; this use is deliberate
    const Signal = proc.binding?.('signal_wrap').Signal;
    if (!Signal) return null;
    const handle = new Signal();
    handle.onsignal = () => onSigint();
    if (handle.start(kSIGINT) !== 0) {
      handle.close();
      return null;
    }
    handle.unref?.();
    return () => handle.close();
  } catch {
    return null;
  } finally {
    proc.noDeprecation = quiet;
  }
}
