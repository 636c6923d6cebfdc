/**
 * The shared memory of a processes world, when the shm addon is built (native/shm): one file,
 * created and unlinked by the host before any rank starts (so nothing is left behind whatever
 * dies), passed to every rank as file descriptor kSharedFd and mapped there as a
 * SharedArrayBuffer. Small messages go through it; everything else stays on the sockets.
 *
 * control (Int32), per rank r at rankBase(r), one cache line each:
 *   BELL (bumped on every ring record for r), SLEEPING (0 awake or spinning; 1 asleep on its
 *   sockets: a sender sends it a wake frame; 2 asleep and already woken), SOCKET_SENT (data
 *   frames sent to r over a socket by ranks that share memory with it: while r has not read
 *   them all, spinning is pointless)
 *   per ordered pair (s, d) at ringBase(s, d): HEAD (bytes s wrote), TAIL (bytes d consumed)
 * rings (from ringsOffset): a single-producer single-consumer byte ring per ordered pair
 */

export const BELL = 0;
export const SLEEPING = 1;
export const SOCKET_SENT = 2;
const kRankInts = 16;

export const HEAD = 0;
export const TAIL = 1;
const kRingInts = 4;

export const AWAKE = 0;
export const ASLEEP = 1;
export const WOKEN = 2;

/** The file descriptor a rank process finds the shared file on (stdio slot 4 of its fork). */
export const kSharedFd = 4;

/** What a rank needs to map the world's shared file (sent in its environment, as JSON). */
export interface SharedWorld {
  readonly size: number;
  /** Bytes of the file. */
  readonly bytes: number;
  readonly ringBytes: number;
  /** Typed-array and object messages up to this many bytes go through the rings. */
  readonly eagerLimit: number;
  /** How long a waiting rank polls before it sleeps on its sockets, in microseconds. */
  readonly spinMicros: number;
}

export function rankBase(r: number): number {
  return r * kRankInts;
}
export function ringBase(size: number, s: number, d: number): number {
  return size * kRankInts + (s * size + d) * kRingInts;
}
/** Byte offset of the ring s → d. */
export function ringOffset(world: SharedWorld, s: number, d: number): number {
  return ringsOffset(world.size) + (s * world.size + d) * world.ringBytes;
}

function ringsOffset(size: number): number {
  const controlBytes = (size * kRankInts + size * size * kRingInts) * 4;
  return Math.ceil(controlBytes / 4096) * 4096;
}

/**
 * Ring size for `np` ranks: 64 KiB for few ranks, smaller for many (16 MiB in all up to 32
 * ranks: /dev/shm is small in containers), never under 8 KiB.
 */
function ringBytesFor(np: number): number {
  let bytes = 64 * 1024;
  while (bytes > 8 * 1024 && np * np * bytes > 16 * 1024 * 1024) bytes /= 2;
  return bytes;
}

export function sharedWorld(size: number, spinMicros: number): SharedWorld {
  const ringBytes = ringBytesFor(size);
  return {
    size,
    bytes: ringsOffset(size) + size * size * ringBytes,
    ringBytes,
    eagerLimit: ringBytes / 4,
    spinMicros,
  };
}
