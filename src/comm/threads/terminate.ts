/**
 * Stops the JavaScript a worker thread is running without ending the thread, the way the
 * kernel's interrupter stops its own main thread: the inspector's Runtime.terminateExecution,
 * sent to the worker through the main thread's NodeWorker domain. V8 unwinds the running task
 * and the worker's event loop goes on with its next message (an %mpirun session rank then
 * drops the interrupted cell and keeps its state).
 */
import { Session } from 'node:inspector';

const kAttachMs = 500;

/** Terminates what the given threads (by threadId) are running now; resolves once it is asked. */
export async function terminateRunning(threadIds: readonly number[]): Promise<void> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  const wanted = new Set(threadIds.map(String));
  const sessions = new Map<string, string>();
  let attachedAll!: () => void;
  const attached = new Promise<void>((resolve) => (attachedAll = resolve));
  session.on('NodeWorker.attachedToWorker', ({ params }) => {
    // The inspector's workerId is its own count; the title says the threadId: "[worker 3]".
    const id = /\[worker (\d+)\]/.exec(params.workerInfo.title)?.[1] ?? '';
    if (!wanted.has(id)) return;
    sessions.set(id, params.sessionId);
    if (sessions.size === wanted.size) attachedAll();
  });
  try {
    await post('NodeWorker.enable', { waitForDebuggerOnStart: false });
    await Promise.race([attached, new Promise((resolve) => setTimeout(resolve, kAttachMs).unref())]);
    const message = JSON.stringify({ id: 1, method: 'Runtime.terminateExecution' });
    await Promise.all([...sessions.values()].map((sessionId) => post('NodeWorker.sendMessageToWorker', { sessionId, message }).catch(() => undefined)));
    await post('NodeWorker.disable').catch(() => undefined);
  } finally {
    session.disconnect();
  }
}
