/**
 * Typed arrays in shared memory. A prange body writes into arrays that every thread sees; an
 * array allocated here is shared from the start, so no loop ever has to copy it.
 */
import { loadShmAddon } from '../util/shm-addon.js';
import type { TypedArray } from '../util/typed-array.js';

export type { TypedArray };

/** A typed array constructor: Float64Array, Int32Array, … */
export interface TypedArrayConstructor<T extends TypedArray> {
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

interface SharedHelper {
  /** `shared(Float64Array, n)`: a zero-filled typed array of length n in shared memory. */
  <T extends TypedArray>(type: TypedArrayConstructor<T>, length: number): T;
  /** `shared.from(xs)`: a copy of a typed array in shared memory (the array itself if it already is). */
  from<T extends TypedArray>(array: T): T;
  /** Whether the array lives in shared memory (threads see each other's writes). */
  isShared(array: ArrayBufferView): boolean;
}

type ViewConstructor<T> = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => T;

function allocate<T extends TypedArray>(type: TypedArrayConstructor<T>, length: number): T {
  if (!Number.isInteger(length) || length < 0) throw new RangeError(`shared(): length must be a non-negative integer, got ${length}`);
  const buffer = sharedBuffer(length * type.BYTES_PER_ELEMENT);
  accountForGc(buffer);
  return new (type as unknown as ViewConstructor<T>)(buffer, 0, length);
}

/** Arrays from this size on come with their pages resident, when the shm addon is built. */
const kResidentBytes = 1 << 20;

/**
 * Zeroed shared memory. A large buffer comes from the shm addon (src/util/shm-addon.ts) with
 * every page made resident in one system call: on a virtual machine each page fault costs some
 * 2.5 µs, so a loop's first pass over a fresh 80 MB array took 50 ms more than the next ones
 * (the lecture's diffusion allocates one per call). Without the addon: a plain SharedArrayBuffer.
 */
function sharedBuffer(bytes: number): SharedArrayBuffer {
  if (bytes >= kResidentBytes) {
    const addon = loadShmAddon();
    if (typeof addon !== 'string' && typeof addon.anonymous === 'function') {
      try {
        return addon.anonymous(bytes);
      } catch {} // out of memory for a mapping: V8's allocator says so in its own words
    }
  }
  return new SharedArrayBuffer(bytes);
}

/**
 * V8 (Node 20) counts an ArrayBuffer's memory towards the next garbage collection but not a
 * SharedArrayBuffer's: a loop that allocates a large shared array per call (the lectures'
 * diffusion) grew by the array's size per call and was never collected (30 calls of 1e7
 * doubles: 2 GB resident, and three times slower per call once the machine had to find fresh
 * memory). So a large shared buffer carries an ArrayBuffer of its size that nobody touches:
 * it costs address space only (never written, its pages are never made resident), and it
 * makes V8 collect the pair when they are garbage. (Where the kernel refuses to overcommit,
 * vm.overcommit_memory=2, it counts against the commit limit all the same.)
 */
const kAccountedBytes = 1 << 20;
const kGcAccounting = Symbol('tslab-parallel: GC accounting for a shared buffer');

/**
 * Makes V8 count a large SharedArrayBuffer object towards garbage collection (see above); also
 * for the copies a worker receives of one (each is an object of that worker's heap that keeps
 * the memory alive until the worker collects it). Once per buffer object.
 */
export function accountForGc(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < kAccountedBytes || Object.hasOwn(buffer, kGcAccounting)) return;
  Object.defineProperty(buffer, kGcAccounting, { value: new ArrayBuffer(buffer.byteLength) });
}

export const shared: SharedHelper = Object.assign(allocate, {
  from<T extends TypedArray>(array: T): T {
    if (isSharedView(array)) return array;
    const copy = allocate(array.constructor as TypedArrayConstructor<T>, array.length);
    (copy as unknown as { set(a: ArrayLike<unknown>): void }).set(array as unknown as ArrayLike<unknown>);
    return copy;
  },
  isShared: isSharedView,
});

export function isSharedView(view: ArrayBufferView): boolean {
  return view.buffer instanceof SharedArrayBuffer;
}
