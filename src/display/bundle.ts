/** Turning values into MIME bundles, as the kernel's execute_result and display() show them. */
import { inspect } from 'node:util';
import { kNoResult, kToMimeBundle, type Displayable, type MimeBundle } from './types.js';

export function isDisplayable(value: unknown): value is Displayable {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Partial<Displayable>)[kToMimeBundle] === 'function'
  );
}

/** Whether a cell ending with `value` should show nothing (display handles). */
export function isSilentResult(value: unknown): boolean {
  return value === undefined || (value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[kNoResult] === true);
}

/** The bundle for any value: its own, if it has one, else its text form (util.inspect, no colours). */
export function toMimeBundle(value: unknown): MimeBundle {
  if (isDisplayable(value)) {
    const bundle = { ...value[kToMimeBundle]() };
    bundle['text/plain'] ??= textOf(value);
    return bundle;
  }
  return { 'text/plain': textOf(value) };
}

export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  return inspect(value, { depth: 4, maxArrayLength: 100, maxStringLength: 10_000, breakLength: 100 });
}

/** A value that displays as the given bundle (what display.html() and friends return). */
export class Rich implements Displayable {
  readonly #bundle: MimeBundle;
  constructor(bundle: MimeBundle) {
    this.#bundle = bundle;
  }
  [kToMimeBundle](): MimeBundle {
    return this.#bundle;
  }
  /** Shown by util.inspect (e.g. console.log of a Rich value) as its text form. */
  [inspect.custom](): string {
    const text = this.#bundle['text/plain'];
    return typeof text === 'string' ? text : `[${Object.keys(this.#bundle).join(', ')}]`;
  }
}
