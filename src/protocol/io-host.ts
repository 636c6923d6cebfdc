/**
 * The main thread's side of the I/O thread: starts it, and gives the kernel a small API to
 * receive requests and send replies and outputs, with no knowledge of ZeroMQ.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ExecState, kSharedSlots, SharedSlot, type IoThreadData, type KernelInfoContent, type ToIo, type ToMain } from './io-messages.js';
import type { Channel, Message, MessageHeader } from './messages.js';

export interface KernelRequest {
  readonly token: number;
  readonly channel: Channel;
  readonly msg: Message;
  /** When the I/O thread received it (ms since epoch). */
  readonly receivedAt: number;
}

export interface IoHandlers {
  request(req: KernelRequest): void;
  interrupt(): void;
  shutdown(restart: boolean): Promise<void>;
}

export class IoThread {
  readonly #worker: Worker;
  readonly #shared: Int32Array;
  readonly #handlers: IoHandlers;
  readonly #closed: Promise<void>;
  readonly #pending: ToIo[] = [];

  private constructor(worker: Worker, shared: Int32Array, handlers: IoHandlers, closed: Promise<void>) {
    this.#worker = worker;
    this.#shared = shared;
    this.#handlers = handlers;
    this.#closed = closed;
  }

  /** Starts the I/O thread and resolves once every socket is listening. */
  static start(connectionFile: string, session: string, kernelInfo: KernelInfoContent, handlers: IoHandlers): Promise<IoThread> {
    const buffer = new SharedArrayBuffer(kSharedSlots * Int32Array.BYTES_PER_ELEMENT);
    const data: IoThreadData = { connectionFile, shared: buffer, kernelInfo, session };
    const worker = new Worker(join(__dirname, 'io-thread.js'), { workerData: data, stdout: false, stderr: false });
    let onClosed!: () => void;
    const closed = new Promise<void>((r) => (onClosed = r));
    return new Promise((resolve, reject) => {
      let io: IoThread | undefined;
      worker.on('message', (m: ToMain) => {
        switch (m.t) {
          case 'listening':
            io = new IoThread(worker, new Int32Array(buffer), handlers, closed);
            resolve(io);
            return;
          case 'fatal':
            reject(new Error(m.message));
            return;
          case 'closed':
            onClosed();
            return;
          default:
            io?.dispatch(m);
        }
      });
      worker.once('error', (err) => (io ? onClosed() : reject(err)));
      worker.once('exit', () => onClosed());
    });
  }

  /** Resolves when the I/O thread has closed its sockets (after a shutdown or close()). */
  get closed(): Promise<void> {
    return this.#closed;
  }

  setExecState(state: ExecState): void {
    Atomics.store(this.#shared, SharedSlot.ExecState, state);
  }

  reply(token: number, msgType: string, content: Record<string, unknown>, metadata?: Record<string, unknown>): void {
    this.#post({ t: 'reply', token, msgType, content, metadata });
  }

  publish(parent: MessageHeader | null, msgType: string, content: Record<string, unknown>, metadata?: Record<string, unknown>): void {
    this.#post({ t: 'iopub', parent, msgType, content, metadata });
  }

  stream(parent: MessageHeader | null, name: 'stdout' | 'stderr', text: string): void {
    this.#post({ t: 'stream', parent, name, text });
  }

  async close(): Promise<void> {
    this.#post({ t: 'close' });
    await this.#closed;
    await this.#worker.terminate();
  }

  private dispatch(m: ToMain): void {
    switch (m.t) {
      case 'request':
        this.#handlers.request({ token: m.token, channel: m.channel, msg: m.msg, receivedAt: m.receivedAt });
        return;
      case 'interrupt':
        try {
          this.#handlers.interrupt();
        } finally {
          Atomics.store(this.#shared, SharedSlot.InterruptAck, m.seq);
        }
        return;
      case 'shutdown':
        void this.#handlers.shutdown(m.restart).finally(() => this.#post({ t: 'shutdown-done', restart: m.restart }));
        return;
    }
  }

  /**
   * Replies and status messages of one task go out together, in one postMessage, at the end of
   * the task's synchronous part (each postMessage costs tens of microseconds). Streams and
   * displays go at once, with what is pending before them: output of a long synchronous loop
   * must reach the client while the loop still runs.
   */
  #post(m: ToIo): void {
    const immediate = m.t === 'stream' || (m.t === 'iopub' && m.msgType.includes('display_data')) || m.t === 'close';
    if (!immediate) {
      this.#pending.push(m);
      if (this.#pending.length === 1) queueMicrotask(() => this.#flush());
      return;
    }
    this.#flush();
    this.#worker.postMessage(m);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const items = this.#pending.splice(0);
    this.#worker.postMessage(items.length === 1 ? items[0] : { t: 'batch', items });
  }
}
