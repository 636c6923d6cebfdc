/**
 * One rank's side of a processes world's shared memory (shared-layout.ts): writing records into
 * the rings to other ranks, draining the rings from them, and the flags that say whether a rank
 * sleeps. The same single-producer single-consumer rings as the threads transport's, with a
 * sequence number per record: a sender numbers every message to a peer, ring and socket alike,
 * and the receiver takes ring records only in that order, so a small message never overtakes a
 * large one sent before it on the socket (MPI's non-overtaking rule).
 *
 * Records (ring.ts): a 24-byte header (length, type | dtype << 8, context, tag, bytes, seq), then
 * the payload, padded to 8 bytes.
 */
import { typedViews, type TypedArray } from '../buffers.js';
import { copyElements, kNoRoom, REC_WRAP, reserveRecord } from '../ring.js';
import { ASLEEP, AWAKE, BELL, HEAD, rankBase, ringBase, ringOffset, SLEEPING, SOCKET_SENT, TAIL, WOKEN, type SharedWorld } from './shared-layout.js';

export const REC_OBJECT = 1;
export const REC_BUFFER = 2;
export const kRecordHeader = 24;

/** Handles one record whose payload is at byte `at` of the shared buffer. */
export type RecordHandler = (source: number, type: number, dtype: number, context: number, tag: number, bytes: number, at: number) => void;

export class SharedRings {
  readonly world: SharedWorld;
  readonly rank: number;
  readonly u8: Uint8Array;
  /** The whole buffer viewed as each element type (by wire code). */
  readonly views: readonly TypedArray[];
  /** The whole buffer as int32: the control words and the rings' record headers. */
  readonly #ctl: Int32Array;
  readonly #mask: number;
  readonly #bell: number;
  /** The TAIL of each outgoing ring as last read (the receiver only ever moves it on). */
  readonly #tailSeen: Int32Array;

  constructor(world: SharedWorld, buffer: SharedArrayBuffer, rank: number) {
    this.world = world;
    this.rank = rank;
    this.#ctl = new Int32Array(buffer);
    this.u8 = new Uint8Array(buffer);
    this.views = typedViews(buffer);
    this.#mask = world.ringBytes - 1;
    this.#bell = rankBase(rank) + BELL;
    this.#tailSeen = new Int32Array(world.size);
  }

  /**
   * Writes a record to `dest` (payload: a typed array of wire code `dtype`), or returns
   * false when its ring lacks room. Rings `dest`'s bell; the caller wakes it if wake() says so.
   */
  write(dest: number, type: number, dtype: number, context: number, tag: number, seq: number, payload: TypedArray): boolean {
    const ctl = this.#ctl;
    const base = ringBase(this.world.size, this.rank, dest);
    const length = (kRecordHeader + payload.byteLength + 7) & ~7;
    const off = ringOffset(this.world, this.rank, dest);
    const i32 = this.#ctl;
    const head = reserveRecord(ctl, base + HEAD, base + TAIL, i32, off, this.world.ringBytes, length, this.#tailSeen, dest);
    if (head === kNoRoom) return false;
    const pos = head & this.#mask;
    const h = (off + pos) >> 2;
    i32[h] = length;
    i32[h + 1] = type | (dtype << 8);
    i32[h + 2] = context;
    i32[h + 3] = tag;
    i32[h + 4] = payload.byteLength;
    i32[h + 5] = seq;
    const view = this.views[dtype]!;
    copyElements(view, (off + pos + kRecordHeader) / view.BYTES_PER_ELEMENT, payload);
    Atomics.store(ctl, base + HEAD, (head + length) | 0);
    Atomics.add(ctl, rankBase(dest) + BELL, 1);
    return true;
  }

  /** True when `dest` sleeps on its sockets and this caller is the first to see it: send it a wake frame. */
  wake(dest: number): boolean {
    const s = rankBase(dest) + SLEEPING;
    return Atomics.load(this.#ctl, s) === ASLEEP && Atomics.compareExchange(this.#ctl, s, ASLEEP, WOKEN) === ASLEEP;
  }

  /**
   * Hands `handle` the records from `source` in sequence order, starting at `seq`; stops at a gap
   * (that message is on the socket) and returns the next sequence number expected.
   */
  drain(source: number, seq: number, handle: RecordHandler): number {
    const ctl = this.#ctl;
    const base = ringBase(this.world.size, source, this.rank);
    let tail = ctl[base + TAIL]!;
    const head = Atomics.load(ctl, base + HEAD);
    if (head === tail) return seq;
    const off = ringOffset(this.world, source, this.rank);
    const i32 = this.#ctl;
    while (tail !== head) {
      const p = off + (tail & this.#mask);
      const h = p >> 2;
      const typeWord = i32[h + 1]!;
      if (typeWord !== REC_WRAP) {
        if (i32[h + 5] !== seq) break;
        handle(source, typeWord & 0xff, typeWord >>> 8, i32[h + 2]!, i32[h + 3]!, i32[h + 4]!, p + kRecordHeader);
        seq = (seq + 1) | 0;
      }
      tail = (tail + i32[h]!) | 0;
    }
    Atomics.store(ctl, base + TAIL, tail);
    return seq;
  }

  /** This rank's bell: it changes whenever a record arrives for it. */
  bell(): number {
    return Atomics.load(this.#ctl, this.#bell);
  }

  /** Counts a data frame sent to `dest` over its socket (before writing it). */
  countSocketFrame(dest: number): void {
    Atomics.add(this.#ctl, rankBase(dest) + SOCKET_SENT, 1);
    Atomics.add(this.#ctl, rankBase(dest) + BELL, 1);
  }

  /** Whether data frames counted for this rank are still unread (of which `read` have been). */
  socketFramesPending(read: number): boolean {
    return Atomics.load(this.#ctl, rankBase(this.rank) + SOCKET_SENT) !== read;
  }

  /** Announces that this rank sleeps on its sockets (senders wake it), or (again) that it is about to. */
  sleep(): void {
    Atomics.store(this.#ctl, rankBase(this.rank) + SLEEPING, ASLEEP);
  }

  awake(): void {
    Atomics.store(this.#ctl, rankBase(this.rank) + SLEEPING, AWAKE);
  }
}
