/**
 * The wire format between process ranks: length-prefixed binary frames on a Unix socket.
 *   header (16 bytes, little-endian): payload bytes u32 | type u8, dtype u8, 0 u16 | context i32 | tag i32
 *   payload: a typed array's raw bytes, or a serialised object (serialize.ts)
 * The first frame on a connection is HELLO, whose context field is the sender's rank and whose
 * tag says whether it reads the world's shared rings.
 */
export const FRAME_HELLO = 0;
export const FRAME_OBJECT = 1;
export const FRAME_BUFFER = 2;
/** No payload: the receiver sleeps and has records in its shared rings (transport.ts). */
export const FRAME_WAKE = 3;
export const kFrameHeader = 16;

export function frameHeader(type: number, dtype: number, context: number, tag: number, bytes: number): Buffer {
  const h = Buffer.allocUnsafe(kFrameHeader);
  h.writeUInt32LE(bytes, 0);
  h.writeUInt32LE(type | (dtype << 8), 4);
  h.writeInt32LE(context, 8);
  h.writeInt32LE(tag, 12);
  return h;
}

/** A whole frame, header and a copy of `payload`, in one buffer: one write, nothing to cork. */
export function frameWith(type: number, dtype: number, context: number, tag: number, payload: Uint8Array): Buffer {
  const f = Buffer.allocUnsafe(kFrameHeader + payload.byteLength);
  f.writeUInt32LE(payload.byteLength, 0);
  f.writeUInt32LE(type | (dtype << 8), 4);
  f.writeInt32LE(context, 8);
  f.writeInt32LE(tag, 12);
  f.set(payload, kFrameHeader);
  return f;
}

/** Where a frame's payload goes. */
export interface FrameSink {
  /** A frame starts: returns where its `bytes` payload bytes go, or null to drop them. */
  begin(type: number, dtype: number, context: number, tag: number, bytes: number): Uint8Array | null;
  /** The frame's payload is complete. */
  end(): void;
}

/** Payload bytes still to come above which the socket reads straight into the target. */
const kDirectMin = 16 * 1024;

/**
 * Reads frames from a byte stream into each payload's target. Fed by a socket's `onread`
 * (Node reads into a buffer we choose): headers and small payloads arrive in a scratch buffer
 * and are copied out; the rest of a large payload is read by the kernel straight into its
 * target, so a typed array crosses with no copy in JavaScript at all.
 */
export class FrameReader {
  readonly #sink: FrameSink;
  readonly #header = Buffer.alloc(kFrameHeader);
  readonly #scratch = new Uint8Array(64 * 1024);
  #have = 0;
  #remaining = -1;
  #target: Uint8Array | null = null;
  #offset = 0;

  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /** Where the socket should put the next bytes it reads. */
  nextBuffer(): Uint8Array {
    if (this.#target && this.#remaining >= kDirectMin) return this.#target.subarray(this.#offset, this.#offset + this.#remaining);
    return this.#scratch;
  }

  /** The socket read `n` bytes into `buffer` (one nextBuffer() gave). */
  received(n: number, buffer: Uint8Array): void {
    if (buffer === this.#scratch) return this.push(buffer.subarray(0, n));
    this.#offset += n;
    this.#remaining -= n;
    if (this.#remaining === 0) this.#finish();
  }

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#remaining < 0) {
        const n = Math.min(kFrameHeader - this.#have, chunk.length - at);
        this.#header.set(chunk.subarray(at, at + n), this.#have);
        this.#have += n;
        at += n;
        if (this.#have < kFrameHeader) return;
        this.#have = 0;
        const h = this.#header;
        const bytes = h.readUInt32LE(0);
        const typeWord = h.readUInt32LE(4);
        this.#target = this.#sink.begin(typeWord & 0xff, (typeWord >>> 8) & 0xff, h.readInt32LE(8), h.readInt32LE(12), bytes);
        this.#offset = 0;
        this.#remaining = bytes;
        if (bytes === 0) this.#finish();
        continue;
      }
      const n = Math.min(this.#remaining, chunk.length - at);
      this.#target?.set(chunk.subarray(at, at + n), this.#offset);
      this.#offset += n;
      this.#remaining -= n;
      at += n;
      if (this.#remaining === 0) this.#finish();
    }
  }

  #finish(): void {
    this.#remaining = -1;
    this.#target = null;
    this.#sink.end();
  }
}
