/**
 * zeromq's v6 sockets allow one send in flight at a time; messages handed over while one is
 * being written wait here, in order.
 */
import type { Writable } from 'zeromq';

export class SendQueue {
  readonly #socket: Writable;
  readonly #queue: Buffer[][] = [];
  #writing = false;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(socket: Writable) {
    this.#socket = socket;
  }

  send(frames: Buffer[]): void {
    if (this.#closed) return;
    this.#queue.push(frames);
    if (!this.#writing) void this.#drain();
  }

  /** Resolves once everything queued so far has been handed to ZeroMQ. */
  flushed(): Promise<void> {
    if (!this.#writing && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
  }

  async #drain(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0 && !this.#closed) {
      const frames = this.#queue.shift()!;
      try {
        await this.#socket.send(frames);
      } catch {
        // A peer that went away (ROUTER with unknown identity, closed socket) loses its message;
        // the kernel goes on for everybody else.
      }
    }
    this.#writing = false;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
