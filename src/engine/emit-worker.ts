/**
 * Emitting in a worker thread, while tslab type-checks the same cell on the main thread: a cell
 * then costs the longer of the two instead of their sum (TypeScript's emit builds a type checker
 * of its own for every file, about a millisecond even for `1+1`). Falls back to emitting on the
 * calling thread if the worker cannot run.
 */
import { join } from 'node:path';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import type { EmitOptions, EmittedText } from './emit.js';

/** The emitter itself, loaded where it runs (in the worker; here only as a fallback). */
function emitCellText(source: string, options: EmitOptions): EmittedText {
  return (require('./emit.js') as typeof import('./emit.js')).emitCellText(source, options);
}

interface Request {
  readonly id: number;
  readonly source: string;
  readonly fileName: string;
  readonly previous: readonly string[];
  readonly captureLastExpression: boolean;
}

const kRole = 'tslab-parallel-emit';

type Reply = { readonly id: number; readonly result: EmittedText } | { readonly id: number; readonly error: string };

export class EmitWorker {
  #worker: Worker | null = null;
  #failed = false;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (r: EmittedText) => void; reject: (e: Error) => void }>();

  /** Starts the worker (it loads TypeScript) so that the first cell does not wait for it. */
  start(): void {
    if (this.#worker || this.#failed) return;
    try {
      const worker = new Worker(join(__dirname, 'emit-worker.js'), { stdout: false, stderr: false, workerData: { role: kRole } });
      worker.unref();
      worker.on('message', (reply: Reply) => {
        const waiter = this.#pending.get(reply.id);
        this.#pending.delete(reply.id);
        if (!waiter) return;
        if ('error' in reply) waiter.reject(new Error(reply.error));
        else waiter.resolve(reply.result);
      });
      worker.on('error', () => this.#fail());
      worker.on('exit', () => this.#fail());
      this.#worker = worker;
    } catch {
      this.#failed = true;
    }
  }

  /** Emits `source`; resolves on the worker's reply, or emits here if the worker is unavailable. */
  emit(source: string, options: EmitOptions): Promise<EmittedText> {
    this.start();
    const worker = this.#worker;
    if (!worker) return Promise.resolve().then(() => emitCellText(source, options));
    const id = this.#nextId++;
    const request: Request = { id, source, fileName: options.fileName, previous: [...options.previous], captureLastExpression: options.captureLastExpression };
    return new Promise<EmittedText>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(request);
    }).catch((err: Error) => {
      // A syntax error the emitter cannot take is the same on either thread; anything else
      // (the worker died) is retried here.
      if (this.#failed) return emitCellText(source, options);
      throw err;
    });
  }

  close(): void {
    const worker = this.#worker;
    this.#worker = null;
    this.#failed = true;
    void worker?.terminate();
  }

  #fail(): void {
    this.#failed = true;
    this.#worker = null;
    for (const [, waiter] of this.#pending) waiter.reject(new Error('the emit worker stopped'));
    this.#pending.clear();
  }
}

// The worker's side: emit what it is asked, one request at a time.
if (parentPort && (workerData as { role?: string } | null)?.role === kRole) {
  const port = parentPort;
  port.on('message', (r: Request) => {
    try {
      const result = emitCellText(r.source, { fileName: r.fileName, previous: new Set(r.previous), captureLastExpression: r.captureLastExpression });
      port.postMessage({ id: r.id, result } satisfies Reply);
    } catch (err) {
      port.postMessage({ id: r.id, error: (err as Error).message } satisfies Reply);
    }
  });
}
