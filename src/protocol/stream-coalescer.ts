/**
 * Merges consecutive stream writes of the same cell and stream into one message, sent after a
 * short delay. A cell that prints in a tight loop would otherwise send one message per line,
 * and the browser would spend its time rendering messages. Anything else the kernel sends
 * flushes first, so order is kept.
 */
import type { MessageHeader } from './messages.js';

const kDelayMs = 15;
const kMaxChunk = 64 * 1024;

type Emit = (parent: MessageHeader | null, name: 'stdout' | 'stderr', text: string) => void;

export class StreamCoalescer {
  readonly #emit: Emit;
  #parent: MessageHeader | null = null;
  #name: 'stdout' | 'stderr' = 'stdout';
  #text = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(emit: Emit) {
    this.#emit = emit;
  }

  add(parent: MessageHeader | null, name: 'stdout' | 'stderr', text: string): void {
    if (this.#text && (parent?.msg_id !== this.#parent?.msg_id || name !== this.#name)) this.flush();
    this.#parent = parent;
    this.#name = name;
    this.#text += text;
    if (this.#text.length >= kMaxChunk) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), kDelayMs);
  }

  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#text) return;
    const text = this.#text;
    this.#text = '';
    this.#emit(this.#parent, this.#name, text);
  }
}
