/**
 * The team's supervisor thread: it starts the team workers (so they are its children) and
 * watches them. The main thread cannot: while a loop runs it is blocked in its own share or in
 * Atomics.wait, so a worker's 'exit' event would never reach it. When a worker dies (out of
 * memory under its resourceLimits, or any other way), the supervisor tells the main thread on
 * the status port, marks the loop failed and counts the dead worker done, which wakes the main
 * thread. Terminating the supervisor terminates the workers with it.
 */
import * as path from 'node:path';
import { parentPort, Worker, workerData as rawWorkerData } from 'node:worker_threads';
import { I } from '../control.js';
import type { MemberDied, StartMember, SupervisorData } from '../protocol.js';

const { ctlBuffer, status, resourceLimits } = rawWorkerData as SupervisorData;
const ctl = new Int32Array(ctlBuffer);

parentPort!.on('message', (msg: StartMember) => {
  const { thread } = msg.workerData;
  const worker = new Worker(path.join(__dirname, 'worker.js'), {
    workerData: msg.workerData,
    transferList: [msg.workerData.port],
    resourceLimits,
    // Worker names show in inspectors and in `top -H`.
    name: `tslab-parallel thread ${thread}`,
  });
  let failure: Error | undefined;
  worker.on('error', (err) => (failure = err));
  worker.on('exit', (exitCode) => {
    const died: MemberDied = {
      thread,
      code: (failure as NodeJS.ErrnoException | undefined)?.code,
      message: failure?.message ?? `it exited with code ${exitCode}`,
    };
    status.postMessage(died);
    Atomics.add(ctl, I.DEAD, 1);
    Atomics.store(ctl, I.FAILED, 1);
    // The dead worker never counts itself done: do it, so the main thread stops waiting.
    Atomics.add(ctl, I.DONE, 1);
    Atomics.notify(ctl, I.DONE);
  });
});
