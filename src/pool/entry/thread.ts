/**
 * Entry of a thread worker (loaded by piscina by path; the main side never imports it).
 * Piscina may hand us a second batch while the first runs (two in flight per worker hides the
 * round trip); batches still run one after the other.
 */
import type PiscinaType from 'piscina';
import { parentPort, workerData } from 'node:worker_threads';
import { ControlBlock } from '../control.js';
import { kPoolTag, type OutputMessage, type ThreadWorkerData, type WorkerReply, type WorkerRequest } from '../protocol.js';
import { setWorkerIdentity } from '../worker-id.js';
import { captureOutput } from './capture-output.js';
import { Runner } from './runner.js';

const data = workerData as ThreadWorkerData;
const control = new ControlBlock(data.control);
let outputSeq = 0;

setWorkerIdentity({ id: data.workerId });
captureOutput((stream, text) => {
  const message: OutputMessage = { [kPoolTag]: 'output', stream, text, seq: ++outputSeq };
  parentPort?.postMessage(message);
});

const runner = new Runner({
  workerId: data.workerId,
  isCancelled: (req) => !control.isOpen(req.cancelSlot, req.call),
  setProgress: (seq, index) => control.setProgress(data.workerId, seq, index),
  outputSeq: () => outputSeq,
});

let queue: Promise<unknown> = Promise.resolve();

/** Loaded only to transfer results (pool.with({ transfer: true })): it costs start-up time otherwise. */
let piscina: typeof PiscinaType | undefined;

export default function handle(req: WorkerRequest): Promise<WorkerReply | object> {
  const run = queue.then(() => runner.run(req));
  queue = run.catch(() => undefined);
  return run.then(({ reply, transfer }) => {
    if (transfer.length === 0) return reply;
    const P = (piscina ??= require('piscina') as typeof PiscinaType);
    return P.move({ [P.transferableSymbol]: transfer, [P.valueSymbol]: reply } as never);
  });
}
