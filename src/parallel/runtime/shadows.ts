/**
 * Shared-memory stand-ins for typed arrays that are not in shared memory (`new Float64Array(n)`).
 * Workers cannot see an ordinary ArrayBuffer, so a loop runs on a shadow: a SharedArrayBuffer
 * the size of the array's buffer, with a view at the same offset. The runtime copies the
 * caller's bytes in before the loop and the loop's writes out after it, so the caller's array
 * (and every other reference to it) sees them, as in Numba. Shadows are kept per buffer, so
 * two views of one buffer alias in the loop as they do outside it, and a loop that runs again
 * (%timeit, a time step) reuses the shadow and the workers' handle to it.
 */
type ViewConstructor = new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;

export class Shadows {
  readonly #buffers = new WeakMap<ArrayBufferLike, SharedArrayBuffer>();
  readonly #views = new WeakMap<ArrayBufferView, ArrayBufferView>();

  /** The shadow of `view`, holding a fresh copy of its bytes. */
  copyIn(view: ArrayBufferView): ArrayBufferView {
    const shadow = this.#shadowOf(view);
    bytesOf(shadow).set(bytesOf(view));
    return shadow;
  }

  /** Writes what the loop left in the shadow back into the caller's array. */
  copyOut(shadow: ArrayBufferView, view: ArrayBufferView): void {
    bytesOf(view).set(bytesOf(shadow));
  }

  #shadowOf(view: ArrayBufferView): ArrayBufferView {
    const buffer = view.buffer;
    let sab = this.#buffers.get(buffer);
    if (!sab || sab.byteLength !== buffer.byteLength) {
      sab = new SharedArrayBuffer(buffer.byteLength);
      this.#buffers.set(buffer, sab);
    }
    let shadow = this.#views.get(view);
    if (shadow && shadow.buffer === sab && shadow.byteLength === view.byteLength) return shadow;
    shadow =
      view instanceof DataView
        ? new DataView(sab, view.byteOffset, view.byteLength)
        : new (view.constructor as ViewConstructor)(sab, view.byteOffset, view.byteLength / elementSize(view));
    this.#views.set(view, shadow);
    return shadow;
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function elementSize(view: ArrayBufferView): number {
  return (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
}
