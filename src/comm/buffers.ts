/**
 * Typed arrays as message buffers. Messages carry raw bytes plus a one-byte element-type code,
 * so an object `recv()` of a buffer message can rebuild the sender's array type.
 */
import type { TypedArray } from '../util/typed-array.js';

export type { TypedArray };

type TypedArrayConstructor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  new (length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

/** Element types by wire code; the index is the code. */
const kTypes: readonly TypedArrayConstructor[] = [
  Uint8Array,
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as unknown as TypedArrayConstructor[];

export function isTypedArray(value: unknown): value is TypedArray {
  return ArrayBuffer.isView(value) && !(value instanceof DataView);
}

const kCodes = new Map<unknown, number>(kTypes.map((T, code) => [T, code]));

/** Wire code of a typed array's element type. */
export function dtypeOf(view: TypedArray): number {
  return kCodes.get(view.constructor) ?? 0;
}

export function dtypeName(code: number): string {
  return kTypes[code]?.name ?? 'Uint8Array';
}

/**
 * One view of the whole of `buffer` per element type, indexed by wire code: a transport copies
 * a message of any type in and out of shared memory with them, creating no view per message.
 * `buffer.byteLength` must be a multiple of 8.
 */
export function typedViews(buffer: ArrayBufferLike): readonly TypedArray[] {
  return kTypes.map((T) => new T(buffer, 0, buffer.byteLength / T.BYTES_PER_ELEMENT));
}

/** The bytes of a typed array, without copying. */
export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** A new typed array of element type `code` holding a copy of `bytes`. */
export function typedArrayFrom(code: number, bytes: Uint8Array): TypedArray {
  const Ctor = kTypes[code] ?? Uint8Array;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
}

/** A typed array of the same element type as `like`, viewing elements [start, start+count) of it. */
export function sliceView<T extends TypedArray>(like: T, start: number, count: number): T {
  return like.subarray(start, start + count) as T;
}

/** A new zero-filled typed array of the same type as `like`. */
export function allocLike<T extends TypedArray>(like: T, length: number): T {
  const Ctor = like.constructor as TypedArrayConstructor;
  return new Ctor(length) as T;
}

/** A new zero-filled typed array of element type `code` with room for `bytes` bytes. */
export function allocTyped(code: number, bytes: number): TypedArray {
  const Ctor = kTypes[code] ?? Uint8Array;
  return new Ctor(bytes / Ctor.BYTES_PER_ELEMENT);
}

/** dst.set(src, offset) for any two typed arrays of the same kind (TypeScript cannot type the union). */
export function setElements(dst: TypedArray, src: TypedArray, offset = 0): void {
  (dst as Float64Array).set(src as Float64Array, offset);
}
