/**
 * The pool's initializer (Python's `initializer` / `initargs`): shipped once, run in each thread
 * or process before its first batch — the first workers, replacements after a crash, a timeout
 * or an interrupt, and workers recycled by maxTasksPerChild. Requests to a worker run in order,
 * so batches sent after it find it done. If it fails (throws, or its worker dies while it runs)
 * the pool is broken, as concurrent.futures' is: every call fails with BrokenPoolError.
 */
import { ship } from '../ship/index.js';
import type { Shipment } from '../ship/shipment.js';
import type { DefinitionLookup } from '../ship/types.js';
import type { ProcessContext } from '../util/process-context.js';
import type { SerializedError } from '../util/remote-error.js';
import type { PoolWorker, SendOutcome } from './backend/worker.js';
import { BrokenPoolError, describeLoss, Errors } from './errors.js';
import type { InitReply } from './protocol.js';

export interface InitializerHooks {
  /** A pool-wide request number. */
  nextSeq(): number;
  /** Whether a worker's loss now is ours (terminate, close), not the initializer's doing. */
  expectedLoss(worker: PoolWorker): boolean;
  /** The initializer failed: fail every call. */
  onBroken(error: BrokenPoolError): void;
}

export class Initializer {
  readonly #shipment: Shipment;
  readonly #args: readonly unknown[];
  readonly #hooks: InitializerHooks;
  /** Per worker id, the incarnation that was sent the initializer. */
  readonly #sentTo = new Map<number, number>();
  #failure: { readonly remote: SerializedError; readonly worker: number } | undefined;

  /** Ships `fn` (throws UnshippableError at once, as a call would). */
  constructor(fn: Function, args: readonly unknown[], where: { definitions: DefinitionLookup | undefined; cwd: string; context: ProcessContext }, hooks: InitializerHooks) {
    this.#shipment = ship({ initializer: fn }, { ...(where.definitions ? { definitions: where.definitions } : {}), cwd: where.cwd, context: where.context });
    this.#args = args;
    this.#hooks = hooks;
  }

  /** The error calls fail with once the initializer failed (a fresh one each time), else undefined. */
  get broken(): BrokenPoolError | undefined {
    return this.#failure && Errors.Broken(this.#failure.remote, this.#failure.worker);
  }

  /** Sends the initializer to the worker unless its current thread or process already had it. */
  ensure(worker: PoolWorker): void {
    if (this.#failure || this.#sentTo.get(worker.id) === worker.incarnation) return;
    const sent = worker.send({ kind: 'init', seq: this.#hooks.nextSeq(), shipment: this.#shipment, args: this.#args }, []);
    this.#sentTo.set(worker.id, sent.incarnation);
    void sent.outcome.then((outcome) => this.#onOutcome(worker, outcome));
  }

  /** The worker left the pool (retired). */
  forget(worker: PoolWorker): void {
    this.#sentTo.delete(worker.id);
  }

  #onOutcome(worker: PoolWorker, outcome: SendOutcome): void {
    let remote: SerializedError | undefined;
    if (outcome.ok) remote = (outcome.reply as InitReply).error;
    else if ('sendError' in outcome) remote = { name: outcome.sendError.name, message: `its arguments could not be sent: ${outcome.sendError.message}` };
    else if (!this.#hooks.expectedLoss(worker)) {
      remote = { name: 'WorkerDiedError', message: `the worker stopped while running it: ${describeLoss(outcome.lost, undefined)}` };
    }
    if (!remote || this.#failure) return;
    this.#failure = { remote, worker: worker.id };
    this.#hooks.onBroken(this.broken as BrokenPoolError);
  }
}
