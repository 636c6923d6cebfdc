/** Argument checks of the Communicator's public methods: one message per mistake, with the fix. */
import { isTypedArray, type TypedArray } from './buffers.js';
import { ANY_SOURCE, ANY_TAG, PROC_NULL, TAG_UB } from './constants.js';
import { Errors } from './errors.js';

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export function checkDest(method: string, dest: unknown, size: number): number {
  if (isInt(dest) && ((dest >= 0 && dest < size) || dest === PROC_NULL)) return dest;
  throw Errors.InvalidRank(method, 'dest', dest, size, ' (or PROC_NULL)');
}

export function checkSource(method: string, source: unknown, size: number): number {
  if (isInt(source) && ((source >= 0 && source < size) || source === ANY_SOURCE || source === PROC_NULL)) return source;
  throw Errors.InvalidRank(method, 'source', source, size, ' (or ANY_SOURCE, PROC_NULL)');
}

export function checkRoot(method: string, root: unknown, size: number): number {
  if (isInt(root) && root >= 0 && root < size) return root;
  throw Errors.InvalidRank(method, 'root', root, size);
}

export function checkSendTag(method: string, tag: unknown): number {
  if (isInt(tag) && tag >= 0 && tag <= TAG_UB) return tag;
  throw Errors.InvalidTag(method, 'tag', tag, false);
}

export function checkRecvTag(method: string, tag: unknown): number {
  if (isInt(tag) && ((tag >= 0 && tag <= TAG_UB) || tag === ANY_TAG)) return tag;
  throw Errors.InvalidTag(method, 'tag', tag, true);
}

export function checkBuffer(method: string, arg: string, value: unknown): TypedArray {
  if (isTypedArray(value)) return value;
  throw Errors.NotTypedArray(method, arg, value);
}

/** Root-only buffers: checked on the root, ignored (may be null) elsewhere. */
export function checkRootBuffer(method: string, arg: string, value: unknown, isRoot: boolean): TypedArray | null {
  return isRoot ? checkBuffer(method, arg, value) : null;
}

export function checkLength(method: string, arg: string, buf: TypedArray, need: number): void {
  if (buf.length < need) throw Errors.BufferSize(method, arg, need, buf.length);
}

/** counts/displs of the v-collectives: one non-negative integer per rank, fitting the buffer. */
export function checkCounts(method: string, arg: string, counts: unknown, size: number): readonly number[] {
  if (!Array.isArray(counts) || !counts.every((c) => isInt(c) && c >= 0)) {
    throw Errors.BadArgument(method, `${arg} must be an array of non-negative integers`, `give one element count per rank, e.g. [${Array(Math.min(size, 3)).fill(2).join(', ')}]`);
  }
  if (counts.length !== size) throw Errors.CountsLength(method, arg, counts.length, size);
  return counts as number[];
}

export function checkArray(method: string, arg: string, value: unknown, size: number): readonly unknown[] {
  if (!Array.isArray(value)) {
    throw Errors.BadArgument(method, `${arg} must be an array with one value per rank`, `pass an array of ${size} values on the root`);
  }
  if (value.length !== size) throw Errors.CountsLength(method, arg, value.length, size);
  return value;
}
