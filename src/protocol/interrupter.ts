/**
 * Interrupting the main thread from the I/O thread.
 *
 * First the main thread is asked (a message it handles when its event loop is free: a cell
 * awaiting a promise that never settles, a pool map, ranks). If it does not acknowledge in time,
 * JavaScript is running there without yielding — `while(true){}`, `Atomics.wait`, or a loop
 * after an `await` that plain tslab cannot stop — and it is cut off with the inspector's
 * Runtime.terminateExecution, which V8 cancels once the running task has unwound. The cell's
 * code runs in a task of its own (Kernel.#runUser in kernel/kernel.ts), so only user frames unwind;
 * the kernel then handles the queued interrupt message and reports the cell as interrupted.
 * The kernel runs with --no-force-async-hooks-checks because a terminated callback leaves
 * Node's async-hook stack unbalanced, which that check would turn into a crash.
 */
import { Session } from 'node:inspector';
import { ExecState, SharedSlot } from './io-messages.js';

/** How long main may take to acknowledge before it is cut off, by what it is doing. */
const kAckTimeoutMs: Record<ExecState, number> = {
  [ExecState.Idle]: 150,
  [ExecState.UserCode]: 150,
  // Compiling a large cell can take a while; cutting kernel code off mid-way is a last resort.
  [ExecState.KernelBusy]: 3000,
};
const kTerminateAttempts = 4;
const kPollMs = 5;

export class Interrupter {
  readonly #shared: Int32Array;
  readonly #askMain: (seq: number) => void;
  readonly #log: (text: string) => void;
  #seq = 0;
  #running: Promise<void> | null = null;

  constructor(shared: Int32Array, askMain: (seq: number) => void, log: (text: string) => void) {
    this.#shared = shared;
    this.#askMain = askMain;
    this.#log = log;
  }

  /** Interrupts main; concurrent requests while one is in progress are folded into it. */
  interrupt(): Promise<void> {
    this.#running ??= this.#run().finally(() => (this.#running = null));
    return this.#running;
  }

  async #run(): Promise<void> {
    const seq = ++this.#seq;
    this.#askMain(seq);
    for (let attempt = 0; attempt <= kTerminateAttempts; attempt++) {
      const state = Atomics.load(this.#shared, SharedSlot.ExecState) as ExecState;
      if (await this.#acked(seq, kAckTimeoutMs[state] * (attempt + 1))) return;
      if (attempt < kTerminateAttempts) await this.#terminateMain();
    }
    this.#log(`interrupt ${seq}: the main thread did not respond after ${kTerminateAttempts} attempts`);
  }

  async #acked(seq: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (Atomics.load(this.#shared, SharedSlot.InterruptAck) >= seq) return true;
      await new Promise((r) => setTimeout(r, kPollMs));
    }
    return Atomics.load(this.#shared, SharedSlot.InterruptAck) >= seq;
  }

  /** Cuts off the JavaScript running on the main thread now. */
  #terminateMain(): Promise<void> {
    return new Promise((resolve) => {
      const session = new Session();
      try {
        session.connectToMainThread();
      } catch (err) {
        this.#log(`cannot attach to the main thread to interrupt it: ${(err as Error).message}`);
        resolve();
        return;
      }
      session.post('Runtime.terminateExecution', (err) => {
        if (err) this.#log(`Runtime.terminateExecution failed: ${err.message}`);
        // Disconnect at once: an attached session keeps Node waiting for "the debugger" at exit.
        session.disconnect();
        resolve();
      });
    });
  }
}
