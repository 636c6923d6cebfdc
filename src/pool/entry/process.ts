/**
 * Entry of a process worker (forked by the pool by path; the main side never imports it).
 * It ignores SIGINT (Jupyter signals the whole process group; the pool decides what an interrupt
 * stops) and exits when the parent goes away (the IPC channel closes).
 */
import { kPoolTag, kResultNotSendable, kWorkerIdEnv, type CancelMessage, type OutputMessage, type WorkerRequest } from '../protocol.js';
import { setWorkerIdentity } from '../worker-id.js';
import { captureOutput } from './capture-output.js';
import { Runner } from './runner.js';

const workerId = Number(process.env[kWorkerIdEnv] ?? '0');
const cancelled = new Set<number>();
let outputSeq = 0;

process.on('SIGINT', () => {
  /* the pool, not the terminal, stops tasks */
});
process.on('disconnect', () => process.exit(0));

setWorkerIdentity({ id: workerId });
captureOutput((stream, text) => {
  const message: OutputMessage = { [kPoolTag]: 'output', stream, text, seq: ++outputSeq };
  process.send?.(message);
});

const runner = new Runner({
  workerId,
  isCancelled: (req) => cancelled.has(req.call),
  yieldEveryMs: 20,
  outputSeq: () => outputSeq,
});

let queue: Promise<unknown> = Promise.resolve();

process.on('message', (message: WorkerRequest | CancelMessage) => {
  if (message.kind === 'cancel') {
    cancelled.add(message.call);
    return;
  }
  queue = queue
    .then(() => runner.run(message))
    .then(({ reply }) => {
      try {
        process.send?.(reply);
      } catch (err) {
        // A result that cannot be serialized: say so instead of losing the batch.
        const text = err instanceof Error ? err.message : String(err);
        process.send?.({ ...reply, results: [], error: { index: kResultNotSendable, error: { name: 'DataCloneError', message: text } } });
      }
    })
    .catch((err: unknown) => {
      process.stderr.write(`pool worker ${workerId}: ${String(err)}\n`);
    });
});
