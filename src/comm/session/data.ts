/**
 * Data between the notebook and a session's ranks: --scatter splits an array into contiguous
 * chunks (lengths differ by at most one, the first ranks get the longer ones, as
 * numpy.array_split), --gather joins every rank's array in rank order.
 */
import type { TypedArray } from '../buffers.js';

export type Splittable = unknown[] | TypedArray;

export function isSplittable(value: unknown): value is Splittable {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

/** Where rank `rank`'s chunk of `length` items starts and ends. */
export function chunkBounds(length: number, rank: number, size: number): [number, number] {
  const base = Math.floor(length / size);
  const longer = length % size;
  const start = rank * base + Math.min(rank, longer);
  return [start, start + base + (rank < longer ? 1 : 0)];
}

/** The chunk of every rank, each a copy of its part. */
export function scatterChunks(value: Splittable, size: number): Splittable[] {
  return Array.from({ length: size }, (_, rank) => value.slice(...chunkBounds(value.length, rank, size)) as Splittable);
}

/**
 * Every rank's part joined in rank order: typed arrays of one kind into one of that kind,
 * arrays into an array. Returns a message naming the first rank whose part does not fit.
 */
export function gatherParts(parts: readonly unknown[]): { value: Splittable } | { problem: string } {
  const first = parts[0];
  if (Array.isArray(first)) {
    const bad = parts.findIndex((p) => !Array.isArray(p));
    if (bad >= 0) return { problem: `rank 0 has an array but rank ${bad} has ${kindOf(parts[bad])}` };
    return { value: (parts as unknown[][]).flat() };
  }
  if (!isSplittable(first)) return { problem: `rank 0 has ${kindOf(first)}, not an array or typed array` };
  const Kind = first.constructor as new (n: number) => TypedArray;
  const bad = parts.findIndex((p) => !(p instanceof Kind));
  if (bad >= 0) return { problem: `rank 0 has a ${Kind.name} but rank ${bad} has ${kindOf(parts[bad])}` };
  const typed = parts as TypedArray[];
  const out = new Kind(typed.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of typed) {
    (out as unknown as { set(a: ArrayLike<number | bigint>, offset: number): void }).set(p, at);
    at += p.length;
  }
  return { value: out };
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return `a ${typeof value}`;
}
