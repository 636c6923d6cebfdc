/**
 * How messages look on MPI. Every message of a communicator's context is small: a 16-byte
 * header (four int32) and, for payloads up to kInlinePayload bytes, the payload itself, copied
 * behind it. Larger payloads (typed arrays or serialised objects) follow separately, zero-copy,
 * on the world's data communicator, tagged with a per-destination sequence number the header
 * names. Because every context message fits kStagingBytes, receives are posted to MPI at once
 * into a staging buffer, whatever they will match: MPI does all the matching, in order.
 *
 * Header: [kind | dtype << 8 | large << 16, sequence, payload bytes (low), payload bytes (high)]
 */

/** Matches kStagingBytes in native/src/runtime.h: below Open MPI's 4 KiB shared-memory eager limit. */
export const kStagingBytes = 4032;
export const kHeaderBytes = 16;
export const kInlinePayload = kStagingBytes - kHeaderBytes;

export const KIND_OBJECT = 0;
export const KIND_BUFFER = 1;
const kLargeFlag = 1 << 16;

export function headerWord(kind: number, dtype: number, large: boolean): number {
  return kind | (dtype << 8) | (large ? kLargeFlag : 0);
}

/** Fields of the header's first word (the hot path reads them without building a Header). */
export const kindOf = (word0: number): number => word0 & 0xff;
export const dtypeOfWord = (word0: number): number => (word0 >> 8) & 0xff;
export const isLarge = (word0: number): boolean => (word0 & kLargeFlag) !== 0;

export interface Header {
  readonly kind: number;
  readonly dtype: number;
  readonly large: boolean;
  readonly sequence: number;
  readonly bytes: number;
}

export function readHeader(words: Int32Array): Header {
  const w = words[0]!;
  return {
    kind: w & 0xff,
    dtype: (w >> 8) & 0xff,
    large: (w & kLargeFlag) !== 0,
    sequence: words[1]!,
    bytes: (words[2]! >>> 0) + words[3]! * 2 ** 32,
  };
}

export function writeHeader(words: Int32Array, word0: number, sequence: number, bytes: number): void {
  words[0] = word0;
  words[1] = sequence;
  words[2] = bytes % 2 ** 32 | 0;
  words[3] = Math.floor(bytes / 2 ** 32);
}

/** A receive buffer for one context message. */
export class Staging {
  readonly bytes = new Uint8Array(kStagingBytes);
  readonly words = new Int32Array(this.bytes.buffer, 0, 4);

  /** The payload of an inline message of `received` bytes (a view, valid until released). */
  payload(received: number): Uint8Array {
    return this.bytes.subarray(kHeaderBytes, received);
  }
}

/** Staging buffers are reused: a receive takes one and gives it back once it is read. */
export class StagingPool {
  readonly #free: Staging[] = [];

  take(): Staging {
    return this.#free.pop() ?? new Staging();
  }

  give(staging: Staging): void {
    if (this.#free.length < 64) this.#free.push(staging);
  }
}
