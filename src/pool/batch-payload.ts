/**
 * What a batch carries: a copy of its slice of the items, numbers packed into one Float64Array,
 * and the buffers to transfer with it rather than copy.
 */

/** Below this many items, packing numbers is not worth its check. */
const kPackAtLeast = 64;

/** Items start … end - 1 as they travel: sliced (typed arrays too: a view would clone its whole buffer), numbers packed. */
export function batchItems(items: ArrayLike<unknown>, start: number, end: number, star: boolean): ArrayLike<unknown> {
  return packNumbers(sliceItems(items, start, end), star);
}

function sliceItems(items: ArrayLike<unknown>, start: number, end: number): ArrayLike<unknown> {
  const sliceable = items as { slice?: (s: number, e: number) => ArrayLike<unknown> };
  if (typeof sliceable.slice === 'function') return sliceable.slice(start, end);
  return Array.prototype.slice.call(items, start, end);
}

/** A batch of numbers travels as one Float64Array (cloned as a block, and transferred: it is our copy). */
function packNumbers(items: ArrayLike<unknown>, star: boolean): ArrayLike<unknown> {
  if (star || !Array.isArray(items) || items.length < kPackAtLeast) return items;
  const packed = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const v: unknown = items[i];
    if (typeof v !== 'number') return items;
    packed[i] = v;
  }
  return packed;
}

/**
 * What to transfer with a batch: the slice of a typed-array input (our own copy, always), and
 * with `transfer: true` the non-shared buffers of typed-array items (or of arguments).
 */
export function transferablesOf(items: ArrayLike<unknown>, star: boolean, transfer: boolean): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (v: unknown): void => {
    if (v instanceof ArrayBuffer) buffers.add(v);
    else if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
  };
  if (ArrayBuffer.isView(items)) add(items);
  else if (transfer) {
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (star && Array.isArray(item)) item.forEach(add);
      else add(item);
    }
  }
  return [...buffers];
}
